"""The browser harness itself: a Chromium that stops answering costs seconds, not the run."""

from __future__ import annotations

import signal

import psutil
import pytest

from tests import services
from tests.services import wait_until


def _gone(process: psutil.Process) -> bool:
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.browser
def test_a_chromium_that_never_closes_a_context_is_killed_and_replaced(_chromium, monkeypatch):
    monkeypatch.setattr(services, "CONTEXT_CLOSE_SECONDS", 1.0)
    browser = _chromium()
    context = browser.new_context()
    context.new_page().set_content("<h1>stuck</h1>")
    (stuck,) = services.chromium_browsers()
    stuck.send_signal(signal.SIGSTOP)  # answers nothing from now on, as in the hang seen
    with pytest.warns(UserWarning, match="did not close a context"):
        services.close_context(context)
    # SIGKILL is sent; a large process takes a moment to finish exiting.
    wait_until(lambda: _gone(stuck), 10, what="the stuck Chromium to exit")
    replacement = _chromium()
    assert replacement is not browser and replacement.is_connected()
    page = replacement.new_context().new_page()
    page.set_content("<h1>fresh</h1>")
    assert page.locator("h1").inner_text() == "fresh"
    services.close_context(page.context)
