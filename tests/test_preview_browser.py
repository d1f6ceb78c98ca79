"""An editor previews an unpublished draft in both preview modes, in real Chromium.

The admin shows previews in a frame; the preview answer itself is rendered at the page's
public address, so it carries the reader pages' security headers. These tests watch for
the browser refusing the frame (CSP ``frame-ancestors``, ``frame-src``) or anything in it.
They run the same flow on gunicorn under the developer settings (``make run``) and under
production's security headers (tests/production_like_settings.py).
"""

from __future__ import annotations

import os
import re
import uuid

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from wagtail.models import Site

from tests.publishing.receivers import free_port
from tests.services import WebServer, admin_log_in, close_context, own_cache_env, wait_until

WATCH_CSP = """
document.addEventListener('securitypolicyviolation', (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`
    + ` in ${document.location.href}`);
});
"""


def frame_text(frame_locator) -> str:
    """The text in a frame, or '' while it is still loading or being replaced."""
    try:
        return frame_locator.locator("body").inner_text(timeout=1000)
    except Exception:  # noqa: BLE001 - the admin swaps its preview frame on every update
        return ""


def answers(web: WebServer) -> bool:
    if web.process.poll() is not None:
        raise AssertionError(f"gunicorn exited:\n{web.output()[-3000:]}")
    try:
        return requests.get(f"{web.url}/admin/login/", timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def server(seed, live_db_url, tmp_path, request):
    """gunicorn on a loopback port under the settings module the test is parametrised with."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # As `make run` has it: the site's root URL is the server's, so the headless mode's
    # default target (our own preview API) is same-origin.
    Site.objects.filter(is_default_site=True).update(hostname="127.0.0.1", port=port)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": request.param,
        "DATABASE_URL": live_db_url,
        "WAGTAILADMIN_BASE_URL": base,
        "PYTHONUNBUFFERED": "1",
        **own_cache_env(request.param),
    }
    web = WebServer(env, tmp_path, port).start()
    try:
        # Not /healthz: it reports the broker, which a preview does not need.
        wait_until(lambda: answers(web), 60, 0.3, "gunicorn to serve the login page")
        yield web
    finally:
        web.stop()


@pytest.mark.browser
@pytest.mark.parametrize(
    "server", ["cms.settings.dev", "tests.production_like_settings"], indirect=True
)
def test_an_editor_previews_a_draft_in_both_modes(server, seed, browser, artifacts_dir, settings):
    blog, post = seed["blog"], seed["post"]
    draft = post.copy(
        to=blog,
        update_attrs={"title": "A draft nobody has published", "slug": "draft-for-preview"},
        keep_live=False,
    )
    assert not draft.live
    # A hash the server's settings can check (the test settings' MD5 is not in dev's list).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    get_user_model().objects.create_superuser("previewer", "p@example.org", "pw-preview-1234")
    title = f"Draft title {uuid.uuid4().hex[:10]}"

    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script(WATCH_CSP)  # runs in every frame, the previews included
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    try:
        admin_log_in(page, server.url, "previewer", "pw-preview-1234")

        page.goto(f"{server.url}/admin/pages/{draft.pk}/edit/")
        page.fill("#id_title", title)
        page.click("button[data-side-panel-toggle='preview']")
        preview = page.frame_locator("#w-preview-iframe")

        # Wagtail's own mode: the reader page, as the draft would render.
        wait_until(lambda: title in frame_text(preview), 30, 0.3, "the draft title in the preview")
        assert preview.locator("h1").inner_text() == title
        page.screenshot(path=str(artifacts_dir / "preview-default.png"))

        # The partner front-end mode: a frame on the preview API inside the preview frame.
        page.select_option("#id_preview_mode", "headless")
        api = preview.frame_locator("iframe.headless-preview__frame")
        try:
            wait_until(
                lambda: f'"title":"{title}"' in re.sub(r'":\s+"', '":"', frame_text(api)),
                30,
                0.3,
                "the draft title in the headless preview",
            )
        except AssertionError as exc:
            seen = [f.url for f in page.frames]
            raise AssertionError(f"{exc}\nframes: {seen}\nconsole: {console}") from None
        page.screenshot(path=str(artifacts_dir / "preview-headless.png"))
    finally:
        close_context(context)

    refused = [m for m in console if "Content Security Policy" in m or "CSP violation" in m]
    refused += [m for m in console if "Refused to" in m or "X-Frame-Options" in m]
    assert refused == [], "\n".join(refused)
    # The draft never went out: readers still get nothing at its address.
    draft.refresh_from_db()
    assert not draft.live and draft.title == "A draft nobody has published"


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["", "headless"])
def test_preview_answers_are_framable_by_the_admin_only_and_never_stored(seed, admin_user, mode):
    """The headers behind the browser test, checked without a browser: fast to fail."""
    request = RequestFactory().get("/admin/pages/preview/")
    request.user = admin_user
    response = seed["post"].make_preview_request(request, mode)
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["frame-ancestors"] == "'self'"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Cache-Control"] == "private, no-store"
    if mode == "headless":
        # Its frame loads the preview API, at the site's root URL (http://testserver here).
        assert policy["frame-src"] == "'self' http://testserver"
        assert "style" not in response.content.decode().replace("stylesheet", "")


@pytest.mark.django_db
def test_reader_pages_still_refuse_every_frame(seed, client):
    response = client.get(seed["post"].url)
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
