"""The clinician's journey in real Chromium: an editor submits the screener for clinical
review, a clinical reviewer approves it with a comment, readers see who reviewed it; when
the review lapses, readers see "This information is being reviewed" at the top.

gunicorn runs the developer settings (``make run``), where the publish gate is on.
"""

from __future__ import annotations

import os
import uuid

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from wagtail.models import Site, TaskState

from publishing.governance import lapse
from publishing.models.governance import CLINICAL_REVIEWERS_GROUP
from publishing.scheduler import engine
from screening.models import ScreenerPage
from tests.publishing.receivers import free_port
from tests.services import WebServer, admin_log_in, close_context, own_cache_env, wait_until


def answers(web: WebServer) -> bool:
    if web.process.poll() is not None:
        raise AssertionError(f"gunicorn exited:\n{web.output()[-3000:]}")
    try:
        return requests.get(f"{web.url}/admin/login/", timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def server(seed, live_db_url, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    Site.objects.filter(is_default_site=True).update(hostname="127.0.0.1", port=port)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
        "DATABASE_URL": live_db_url,
        "WAGTAILADMIN_BASE_URL": base,
        "PYTHONUNBUFFERED": "1",
        **own_cache_env("cms.settings.dev"),
    }
    web = WebServer(env, tmp_path, port).start()
    try:
        wait_until(lambda: answers(web), 60, 0.3, "gunicorn to serve the login page")
        yield web
    finally:
        web.stop()


def more_actions(page) -> None:
    """Open the footer's "More actions" menu, as an editor does."""
    page.locator("footer").get_by_role("button", name="More actions").click()


@pytest.mark.browser
@pytest.mark.clinical_gate
def test_clinician_reviews_and_the_reader_sees_the_review(server, seed, browser, settings):
    screener = ScreenerPage.objects.get()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    users = get_user_model().objects
    users.create_superuser("editor", "e@example.org", "pw-editor-1234")
    clinician = users.create_user(
        "dr.okafor", "o@example.org", "pw-clinician-1234", first_name="Ada", last_name="Okafor"
    )
    clinician.groups.add(Group.objects.get(name=CLINICAL_REVIEWERS_GROUP))
    question = f"Back pain with any of these? {uuid.uuid4().hex[:6]}"
    comment = "Checked against NICE NG234 and CG59."
    edit_url = f"{server.url}/admin/pages/{screener.pk}/edit/"

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        # The editor changes the question and submits it for clinical review.
        admin_log_in(page, server.url, "editor", "pw-editor-1234")
        page.goto(edit_url)
        page.fill("#id_question", question)
        more_actions(page)
        page.locator("button[name='action-submit']").click()
        page.wait_for_url("**/admin/pages/**")
        wait_until(
            lambda: TaskState.objects.filter(status="in_progress").exists(),
            15,
            0.2,
            "the clinical review task to start",
        )
        assert requests.get(f"{server.url}{screener.url}", timeout=10).text.count(question) == 0
        context.clear_cookies()

        # The clinician approves it with a comment.
        admin_log_in(page, server.url, "dr.okafor", "pw-clinician-1234")
        page.goto(edit_url)
        more_actions(page)
        page.get_by_role("button", name="Approve with comment").click()
        page.locator("textarea[name='comment']").fill(comment)
        page.locator("form button[type=submit]", has_text="Approve with comment").click()
        wait_until(
            lambda: TaskState.objects.filter(status="approved", comment=comment).exists(),
            15,
            0.2,
            "the approval to be recorded",
        )
    finally:
        close_context(context)

    # The reader page shows the new question, who reviewed it, and the dates.
    today = timezone.localdate()
    html = ""

    def reader_shows_review() -> bool:
        nonlocal html
        html = requests.get(f"{server.url}{screener.url}", timeout=10).text
        return question in html and "Reviewed by Ada Okafor." in html

    wait_until(reader_shows_review, 15, 0.3, "the reader page to show the review")
    assert f'<time datetime="{today.isoformat()}">' in html  # last reviewed
    next_due = today.replace(year=today.year + 1)
    assert f'<time datetime="{next_due.isoformat()}">' in html  # next review due (12 months)
    assert "Not yet clinically reviewed" not in html

    # The review lapses (the scheduler's claim, at its instant): the banner opens the page,
    # above the heading, while the review line stays at the foot.
    instant = lapse.lapse_at(ScreenerPage.objects.get(pk=screener.pk).next_review_due)
    label = "screening.screenerpage"
    assert engine.lapse_due_page(label, screener.pk, instant) == engine.Outcome.LAPSED
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{server.url}{screener.url}")
        banner = page.get_by_role("status").filter(has_text="This information is being reviewed.")
        banner.wait_for(timeout=15_000)
        first = page.locator("main > *").first
        assert "This information is being reviewed." in first.inner_text()
        heading = page.get_by_role("heading", level=1).bounding_box()
        review = page.locator("aside.review").bounding_box()
        assert banner.bounding_box()["y"] < heading["y"] < review["y"]
    finally:
        close_context(context)
