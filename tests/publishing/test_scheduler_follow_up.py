"""A scheduled page goes live first; Wagtail's after-publish step follows, exactly once.

In-process: the test's transaction never commits, so a follow-up queued "after commit"
is never sent, which is what a lost task looks like; :func:`follow_up.finish` and the
beat sweep are then called as a worker would. Time is moved with freezegun. The real
worker runs them in tests/publishing/test_scheduler_bursts.py.
"""

import datetime as dt
import logging

import pytest
from freezegun import freeze_time
from wagtail.models import Page, PageLogEntry
from wagtail.signals import page_published

from cms.models import BlogPostPage
from publishing.models import GoLiveFollowUp, ScheduleIssue, WebhookEvent
from publishing.scheduler import engine as scheduler
from publishing.scheduler import follow_up
from publishing.scheduler import tasks as scheduler_tasks
from publishing.scheduler.engine import Outcome
from tests.publishing.publish import schedule_post

T0 = dt.datetime(2030, 5, 1, 12, 0, tzinfo=dt.UTC)
DUE = T0 + dt.timedelta(hours=1)


@pytest.fixture
def heard():
    """page ids ``page_published`` was sent for, with the title the receiver saw."""
    received = []

    def on(sender, instance, revision=None, **kwargs):
        received.append((instance.pk, instance.title, getattr(revision, "pk", None)))

    page_published.connect(on)
    yield received
    page_published.disconnect(on)


def scheduled(seed, count=1):
    with freeze_time(T0):
        return [schedule_post(seed["blog"], f"Follow-up {i}", DUE) for i in range(count)]


@pytest.mark.django_db
def test_a_page_goes_live_with_its_audit_entry_and_the_signal_follows_once(seed, heard):
    [(post, revision)] = scheduled(seed)
    heard.clear()  # scheduling sends page_published for a not-yet-live page (Wagtail's way)
    with freeze_time(DUE):
        assert scheduler.publish_due_revisions([revision.pk]) == {revision.pk: Outcome.PUBLISHED}
    post.refresh_from_db()
    # Live, with Wagtail's audit entry written in the go-live transaction, at its time.
    assert post.live and post.live_revision_id == revision.pk
    assert post.last_published_at == DUE
    entry = PageLogEntry.objects.get(page=post, action=scheduler.LOG_ACTION)
    assert entry.revision_id == revision.pk and entry.timestamp == DUE
    # What follows has not run yet: no signal, no partner event, a row waiting.
    assert heard == []
    assert not WebhookEvent.objects.filter(page_id=post.pk).exists()
    assert GoLiveFollowUp.objects.filter(revision=revision).count() == 1

    assert follow_up.finish(follow_up.pending()) == 1
    assert heard == [(post.pk, post.title, revision.pk)]
    assert WebhookEvent.objects.filter(page_id=post.pk, type="page.published").count() == 1
    assert not GoLiveFollowUp.objects.exists()
    # Once: a duplicate task (the sweep's, a redelivery) finds nothing.
    assert follow_up.finish([1, 2, 3]) == 0
    assert len(heard) == 1


@pytest.mark.django_db
def test_a_lost_follow_up_is_handed_on_by_the_sweep_after_its_grace(seed, heard):
    [(post, revision)] = scheduled(seed)
    heard.clear()
    with freeze_time(DUE):
        scheduler_tasks.sweep()  # eager: publishes what is due now
    post.refresh_from_db()
    assert post.live and heard == []
    with freeze_time(DUE + follow_up.RETRY_AFTER - dt.timedelta(seconds=1)):
        scheduler_tasks.sweep()
    assert heard == []  # its task may still be on its way
    with freeze_time(DUE + follow_up.RETRY_AFTER + dt.timedelta(seconds=1)):
        assert scheduler_tasks.sweep()["follow-ups"] == 1
    assert heard == [(post.pk, post.title, revision.pk)]
    assert not GoLiveFollowUp.objects.exists()


@pytest.mark.django_db
def test_no_signal_for_a_revision_that_is_no_longer_live_when_its_follow_up_runs(seed, heard):
    [(gone, gone_revision), (replaced, first_revision)] = scheduled(seed, 2)
    with freeze_time(DUE):
        scheduler.publish_due_revisions([gone_revision.pk, first_revision.pk])
        Page.objects.get(pk=gone.pk).specific.unpublish()
        replaced = BlogPostPage.objects.get(pk=replaced.pk)
        replaced.title = "Published over"
        newer = replaced.save_revision()
        newer.publish()
    heard.clear()
    assert follow_up.finish(follow_up.pending()) == 0
    assert heard == []  # partners heard of the unpublish and of the newer revision instead
    assert not GoLiveFollowUp.objects.exists()


@pytest.mark.django_db
def test_a_receiver_failing_after_go_live_is_retried_a_few_times_then_given_up(
    seed, heard, caplog, admin_client
):
    [(broken, broken_revision), (fine, fine_revision)] = scheduled(seed, 2)
    heard.clear()

    def explode(sender, instance, **kwargs):
        if instance.pk == broken.pk:
            raise RuntimeError("receiver bug")

    page_published.connect(explode)
    try:
        with freeze_time(DUE):
            scheduler.publish_due_revisions([broken_revision.pk, fine_revision.pk])
            caplog.set_level(logging.ERROR, logger="publishing.scheduler.follow_up")
            follow_up.finish(follow_up.pending())
        # The page stays live (it went live at its time); the other page's step ran.
        assert BlogPostPage.objects.get(pk=broken.pk).live
        # What the failing step did is rolled back with it: no partner event for it yet.
        assert WebhookEvent.objects.filter(page_id=fine.pk).count() == 1
        assert not WebhookEvent.objects.filter(page_id=broken.pk).exists()
        assert GoLiveFollowUp.objects.get().attempts == 1
        assert "Failed:" in _problems(admin_client, broken.title)
        for attempt in (2, 3):
            with freeze_time(DUE + attempt * (follow_up.RETRY_AFTER + dt.timedelta(seconds=1))):
                scheduler_tasks.sweep()
    finally:
        page_published.disconnect(explode)
    assert not GoLiveFollowUp.objects.exists()
    failures = [r for r in caplog.records if r.name == "publishing.scheduler.follow_up"]
    assert len(failures) == follow_up.MAX_ATTEMPTS  # one line per attempt, then none
    assert "given up" in failures[-1].getMessage()
    # Editors see that partners were never told, and what to do about it.
    issue = ScheduleIssue.objects.get(resolved=False)
    assert (issue.action, issue.object_id, issue.revision_id, issue.final, issue.attempts) == (
        "notify",
        str(broken.pk),
        broken_revision.pk,
        True,
        follow_up.MAX_ATTEMPTS,
    )
    problem = _problems(admin_client, broken.title)
    assert "Given up:" in problem and "receiver bug" in problem
    assert "Publish the page again" in problem
    # It blocks no schedule and /healthz counts no overdue item for it.
    assert not scheduler.blocked_issue_keys()
    # Published again (the receiver mended): partners are told, the problem is over.
    broken.refresh_from_db()
    with freeze_time(DUE + dt.timedelta(minutes=5)):
        broken.save_revision().publish()
    assert WebhookEvent.objects.filter(page_id=broken.pk).exists()
    assert not ScheduleIssue.objects.filter(resolved=False).exists()
    assert _problems(admin_client, broken.title) == ""


def _problems(client, title: str) -> str:
    """The Scheduled report's "Problems" row naming ``title``, as text ('' if none)."""
    from bs4 import BeautifulSoup
    from django.urls import reverse

    html = client.get(reverse("publishing_scheduled_report")).content.decode()
    rows = BeautifulSoup(html, "html.parser").select("tr.scheduler-problem")
    return " ".join(r.get_text(" ", strip=True) for r in rows if title in r.get_text())
