"""The supervisor's back-off (cms/supervisor.py): doubling, capped, reset once stable.

A real child process that exits at once is restarted after 1, 2, 4 ... seconds; the
times between its starts are measured, not just the lines that announce them.
"""

from __future__ import annotations

import re
import sys
import threading
import time

import pytest

from cms import supervisor
from cms.supervisor import Supervisor
from tests.services import wait_until


class Lines:
    """A text stream that remembers when each line was written."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []

    def write(self, text: str) -> None:
        self.lines.extend((time.monotonic(), line) for line in text.splitlines() if line)

    def flush(self) -> None:
        pass

    def starts(self, name: str) -> list[float]:
        return [at for at, line in self.lines if re.search(rf"started {name} \(pid", line)]

    def announced(self) -> list[float]:
        return [float(m[1]) for _, line in self.lines if (m := re.search(r"in (\d+) s", line))]


def supervise(commands: dict[str, list[str]], until, timeout: float) -> Lines:
    """Run a supervisor in this (main) thread until ``until(lines)``, then stop it."""
    out = Lines()
    sup = Supervisor(commands, env={}, out=out)
    stopper = threading.Thread(
        target=lambda: (wait_until(lambda: until(out), timeout, what="the restarts"), sup.stop()),
        daemon=True,
    )
    stopper.start()
    try:
        sup.run()
    finally:
        sup.stop()
    stopper.join(5)
    return out


def test_a_process_that_keeps_dying_is_restarted_after_a_doubling_back_off(monkeypatch):
    monkeypatch.setattr(supervisor, "MAX_BACKOFF", 4.0)
    crashing = [sys.executable, "-c", "import sys; sys.exit(3)"]
    out = supervise({"crashy": crashing}, lambda out: len(out.starts("crashy")) >= 5, 60)
    starts = out.starts("crashy")
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert out.announced()[:4] == [1, 2, 4, 4], out.lines  # capped at MAX_BACKOFF
    # Each gap is the back-off (plus the child's own short life and the 0.2 s poll).
    for gap, backoff in zip(gaps, [1, 2, 4, 4], strict=False):
        assert backoff <= gap < backoff + 3, (gaps, out.lines)
    assert any("exited with exit code 3" in line for _, line in out.lines)


@pytest.mark.parametrize("stable", [1.5])
def test_the_back_off_starts_again_once_a_process_stayed_up(monkeypatch, tmp_path, stable):
    """Dies at once twice (1 s, 2 s), then lives past STABLE_SECONDS: the next is 1 s."""
    monkeypatch.setattr(supervisor, "STABLE_SECONDS", stable)
    runs = tmp_path / "runs"
    script = (
        "import pathlib, sys, time\n"
        f"p = pathlib.Path({str(runs)!r})\n"
        "n = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\n"
        f"time.sleep({stable} + 0.5 if n == 3 else 0)\n"
        "sys.exit(1)\n"
    )
    out = supervise(
        {"flaky": [sys.executable, "-c", script]},
        lambda out: len(out.announced()) >= 3,
        60,
    )
    assert out.announced()[:3] == [1, 2, 1], out.lines
