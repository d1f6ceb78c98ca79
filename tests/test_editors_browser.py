"""Editors in real Chromium: scheduling across a DST change, the editorial calendar and its
ICS feed, and a release rehearsed before its instant and undone after it went live.

Every admin page added for this passes axe (no serious or critical violation). With
``SCREENSHOTS=1`` the tests also refresh docs/screenshots/ (the README's editor guide).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from django.contrib.auth import get_user_model
from django.utils import timezone
from icalendar import Calendar
from wagtail.models import Revision

from cms.models import Author, BlogPostPage
from tests.factories import make_post
from tests.services import admin_log_in, close_context, wait_until
from tests.test_accessibility import serious_violations

LA = ZoneInfo("America/Los_Angeles")
DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def shot(page, name: str, artifacts_dir: Path, **kwargs) -> None:
    """A screenshot in the test artifacts, and in docs/ when refreshing the editor guide."""
    page.screenshot(path=str(artifacts_dir / name), **kwargs)
    if os.environ.get("SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / name), **kwargs)


def first_day_after_spring_forward(year: int) -> dt.date:
    """The day after clocks go forward in Los Angeles (second Sunday of March)."""
    day = dt.date(year, 3, 1)
    while dt.datetime(day.year, day.month, day.day, 12, tzinfo=LA).utcoffset() != dt.timedelta(
        hours=-7
    ):
        day += dt.timedelta(days=1)
    return day + dt.timedelta(days=1)


MESSAGES_ANIMATING = """
document.getAnimations().filter((a) => a.playState === 'running' && a.effect
  && a.effect.target && a.effect.target.closest && a.effect.target.closest('.messages')).length
"""


def no_axe_violations(page, where: str) -> None:
    # Wagtail's messages fade in: measure contrast once nothing is animating.
    wait_until(lambda: page.evaluate(MESSAGES_ANIMATING) == 0, 10, 0.1, "messages to appear")
    violations = serious_violations(page)
    assert violations == [], f"{where}: {violations}"


@pytest.mark.browser
def test_a_post_scheduled_across_dst_is_in_the_calendar_and_the_ics_feed(
    seed, live_server, browser, artifacts_dir
):
    get_user_model().objects.create_superuser(
        "cal", "cal@example.org", "pw-cal-1234", first_name="Cal", last_name="Endar"
    )
    base, blog = live_server.url, seed["blog"]
    # Now is in PST (or PDT); the go-live is the day after spring-forward: PDT, UTC-07:00.
    day = first_day_after_spring_forward(timezone.localdate().year + 1)
    wall = f"{day.isoformat()} 09:00:00"
    title = "Sun safety during radiotherapy"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        admin_log_in(page, base, "cal", "pw-cal-1234")
        page.goto(f"{base}/admin/pages/add/cms/blogpostpage/{blog.pk}/")
        page.fill("#id_title", title)
        page.fill("#id_date", timezone.localdate().isoformat())
        page.select_option("#id_post_authors-0-author", label="Dr. Pan")
        page.fill("#id_summary", "Protecting treated skin from the sun.")
        page.click("button[data-side-panel-toggle='status']")
        page.get_by_role("button", name="Set schedule").click()
        page.fill("#id_go_live_at", wall)
        label = page.locator("[data-schedule-zone-for='id_go_live_at']")
        wait_until(
            lambda: label.inner_text() == "Times are in America/Los_Angeles (PDT, UTC-07:00).",
            10,
            0.1,
            "the PDT label for a date after the change",
        )
        # The open date picker does not cover the dialog's buttons (issue 16): a plain
        # click on "Save schedule", which Playwright makes only on an uncovered button.
        shot(page, "schedule-dialog.png", artifacts_dir)
        page.get_by_role("button", name="Save schedule").click(timeout=10_000)
        page.locator("#schedule-publishing-dialog").wait_for(state="hidden", timeout=15_000)
        page.get_by_role("button", name="More actions").click()
        page.click("button[name='action-publish']")
        page.wait_for_load_state("networkidle")

        expected = dt.datetime.combine(day, dt.time(16, 0), tzinfo=dt.UTC)  # 09:00 PDT
        wait_until(
            lambda: Revision.objects.filter(
                object_str=title, approved_go_live_at=expected
            ).exists(),
            15,
            0.2,
            "a revision scheduled for 09:00 PDT (16:00 UTC)",
        )

        page.goto(f"{base}/admin/calendar/?date={day.isoformat()}&view=month")
        cell = page.locator(f"td[data-date='{day.isoformat()}']")
        assert title in cell.inner_text() and "09:00 PDT" in cell.inner_text()
        assert f"{day.isoformat()} 09:00:00 PDT" in page.content()
        cell.get_by_role("link", name=title).wait_for()
        no_axe_violations(page, "calendar month")
        shot(page, "calendar.png", artifacts_dir, full_page=True)
        page.goto(f"{base}/admin/calendar/?date={day.isoformat()}&view=week&kind=go_live")
        assert title in page.locator(f"td[data-date='{day.isoformat()}']").inner_text()
        no_axe_violations(page, "calendar week")
        # Following the item opens its editor.
        page.locator(f"td[data-date='{day.isoformat()}']").get_by_role("link", name=title).click()
        page.wait_for_url(re.compile(r"/admin/pages/\d+/edit/"))

        page.goto(f"{base}/admin/calendar/subscription/")
        no_axe_violations(page, "calendar subscription")
        page.get_by_role("button", name="Create feed address").click()
        feed_url = page.locator("[data-calendar-feed-url]").input_value()
        no_axe_violations(page, "calendar subscription with address")
        answer = requests.get(feed_url, timeout=10)  # no session: the token opens it
        assert answer.status_code == 200
        events = {str(e["SUMMARY"]): e for e in Calendar.from_ical(answer.content).walk("VEVENT")}
        assert events[f"Go live: {title}"].decoded("DTSTART") == expected
        page.get_by_role("button", name="Revoke feed address").click()
        page.wait_for_load_state("networkidle")
        assert requests.get(feed_url, timeout=10).status_code == 404
    finally:
        close_context(context)


@pytest.mark.browser
def test_a_release_is_rehearsed_then_goes_live_and_is_undone(
    seed, live_server, browser, artifacts_dir
):
    from publishing.scheduler import engine as scheduler

    editor = get_user_model().objects.create_superuser("rel", "rel@example.org", "pw-rel-1234")
    base, post = live_server.url, seed["post"]
    old_title = post.title
    draft = post.get_latest_revision_as_object()
    draft.title = "Arimidex: the 2027 guidance"
    draft.save_revision(user=editor)
    new = make_post(seed["blog"], "Spring screening days", timezone.localdate(),
                    Author.objects.get(slug="dr-pan"), publish=False)  # fmt: skip
    new.save_revision(user=editor)
    new_url = f"{base}{new.get_parent().url}{new.slug}/"

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        admin_log_in(page, base, "rel", "pw-rel-1234")
        page.goto(f"{base}/admin/releases/")
        no_axe_violations(page, "release index (empty)")
        page.get_by_role("link", name="New release").click()
        no_axe_violations(page, "release form")
        instant = (timezone.now() + dt.timedelta(seconds=40)).astimezone(LA).replace(microsecond=0)
        page.fill("#id_name", "Spring update")
        page.fill("#id_go_live_at", instant.strftime("%Y-%m-%d %H:%M:%S"))
        page.screenshot(path=str(artifacts_dir / "release-form.png"), full_page=True)
        page.locator("label", has_text="Arimidex: the 2027 guidance").locator("input").check()
        page.locator("label", has_text="Spring screening days").locator("input").check()
        page.get_by_role("button", name="Schedule release").click()
        page.wait_for_url(re.compile(r"/admin/releases/\d+/$"))
        assert "Scheduled" in page.locator("[data-release-status]").inner_text()
        no_axe_violations(page, "release detail")
        detail_url = page.url

        # Rehearse: the home page as it will be at the instant.
        href = page.get_by_role("link", name="Preview: Home page").get_attribute("href")
        page.goto(base + href)
        assert page.locator("[data-release-preview]").count() == 1
        assert "Spring screening days" in page.content()
        assert "Arimidex: the 2027 guidance" in page.content()
        shot(page, "release-preview.png", artifacts_dir)
        # ... while the public sees today's site, and nothing of it leaked into a cache.
        public_home = requests.get(f"{base}/", timeout=10).text
        assert "Spring screening days" not in public_home
        assert requests.get(new_url, timeout=10).status_code == 404

        # The instant passes; the scheduler publishes each revision (as beat would).
        wait_until(lambda: timezone.now() > instant, 60, 0.5, "the release instant")
        scheduler.run_due_now()
        assert "Spring screening days" in requests.get(f"{base}/", timeout=10).text
        page.goto(detail_url)
        assert "Live" in page.locator("[data-release-status]").inner_text()
        no_axe_violations(page, "release detail (live)")

        page.get_by_role("button", name="Undo release").click()
        page.wait_for_load_state("networkidle")
        assert "Undone" in page.locator("[data-release-status]").inner_text()
        assert page.get_by_role("button", name="Undo release").count() == 0
        wait_until(lambda: requests.get(new_url, timeout=10).status_code == 404, 10, 0.2,
                   "the new post to be unpublished")  # fmt: skip
        live = BlogPostPage.objects.get(pk=post.pk)
        assert live.title == old_title
        assert old_title in requests.get(f"{base}{live.url}", timeout=10).text
    finally:
        close_context(context)


@pytest.mark.browser
def test_errors_on_a_hidden_tab_and_in_the_schedule_dialog_are_summarised_at_the_top(
    seed, live_server, browser, artifacts_dir
):
    get_user_model().objects.create_superuser("errs", "e@example.org", "pw-errs-1234")
    base, taken = live_server.url, seed["post"].slug
    draft = make_post(seed["blog"], "A draft that clashes", timezone.localdate(),
                      Author.objects.get(slug="dr-pan"), publish=False)  # fmt: skip
    gap_day = first_day_after_spring_forward(timezone.localdate().year + 1) - dt.timedelta(days=1)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        admin_log_in(page, base, "errs", "pw-errs-1234")
        page.goto(f"{base}/admin/pages/{draft.pk}/edit/")
        page.get_by_role("tab", name="Promote").click()
        page.fill("#id_slug", taken)
        page.get_by_role("tab", name="Content").click()
        page.click("button[data-side-panel-toggle='status']")
        page.get_by_role("button", name="Set schedule").click()
        page.fill("#id_go_live_at", f"{gap_day.isoformat()} 02:30:00")  # skipped by DST
        with page.expect_navigation():
            page.get_by_role("button", name="Save schedule").click(timeout=10_000)

        summary = page.locator("#editor-error-summary")
        summary.wait_for(timeout=10_000)
        assert summary.get_attribute("role") == "alert"
        said = summary.inner_text()
        assert "Promote › Slug" in said and "already in use" in said
        assert "Go live date/time" in said and "does not exist" in said
        assert f"{gap_day.isoformat()} 01:59:59 PST" in said
        assert f"{gap_day.isoformat()} 03:00:00 PDT" in said
        shot(page, "error-summary.png", artifacts_dir)
        # Following the entry opens the hidden tab at the field.
        summary.get_by_role("link", name="Promote › Slug").click()
        wait_until(lambda: page.locator("#id_slug").is_visible(), 10, 0.1, "the Promote tab")
        wait_until(
            lambda: (
                page.evaluate("document.activeElement && document.activeElement.id") == "id_slug"
            ),
            10,
            0.1,
            "the slug field focused",
        )
    finally:
        close_context(context)


@pytest.mark.browser
def test_an_expiry_saved_on_a_draft_of_a_live_post_is_called_not_scheduled(
    seed, live_server, browser, artifacts_dir
):
    """The trap of issue 16: an editor sets only an expiry on a live post and saves a draft.

    The page says, in words, that nothing is scheduled, and the Scheduled report lists the
    expiry as "Not scheduled"; the live post keeps no expiry.
    """
    get_user_model().objects.create_superuser("exp", "exp@example.org", "pw-exp-1234")
    base, post = live_server.url, seed["post"]
    assert post.live and post.expire_at is None
    expiry = timezone.localtime() + dt.timedelta(days=10)
    wall = expiry.strftime("%Y-%m-%d %H:%M:00")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        admin_log_in(page, base, "exp", "pw-exp-1234")
        page.goto(f"{base}/admin/pages/{post.pk}/edit/")
        page.click("button[data-side-panel-toggle='status']")
        page.get_by_role("button", name="Set schedule").click()
        page.fill("#id_expire_at", wall)
        page.get_by_role("button", name="Save schedule").click(timeout=10_000)
        page.locator("#schedule-publishing-dialog").wait_for(state="hidden", timeout=15_000)
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_load_state("networkidle")
        warning = page.locator(".messages").get_by_text("is not scheduled")
        warning.wait_for(timeout=15_000)
        text = warning.inner_text()
        assert "it is on an unpublished draft" in text and "has no expiry" in text, text
        assert expiry.strftime("%Y-%m-%d %H:%M") in text, text
        shot(page, "expiry-draft-warning.png", artifacts_dir)

        page.goto(f"{base}/admin/reports/scheduled/")
        row = page.locator("tr.scheduled-row--not-scheduled", has_text=post.title)
        row.wait_for(timeout=10_000)
        assert "Not scheduled" in row.inner_text()
        post.refresh_from_db()
        assert post.expire_at is None  # nothing in force
    finally:
        close_context(context)
