"""Bursts with real processes: many pages due at one instant, published in batches.

The sweep arms publishes due at one instant as batch tasks (``publish_scheduled_revisions``)
that commit several pages at once, and Wagtail's index updates run after commit as
separate tasks. These tests check that nothing of a publish is lost on the way: each page
live once, one ``wagtail.publish.scheduled`` audit entry per revision next to the
scheduling user's ``wagtail.publish.schedule`` entry, the ``page_published`` signal heard
once per page (by the webhooks' listener, which counts) once the go-lives' follow-ups have
run, and the search index caught up.
Speed is measured by ``make bench`` (benchmarks/bench_scheduler.py), not here.
"""

import datetime as dt

import pytest
from django.utils import timezone
from wagtail.models import PageLogEntry, Revision

from cms.models import Author, BlogPostPage
from publishing.models import GoLiveFollowUp, WebhookPageState
from tests.factories import make_post
from tests.publishing.publish import assert_published_once, live_count
from tests.services import wait_until

pytestmark = [pytest.mark.services]

SEARCH_WORD = "quokka"


def schedule_burst(blog, user, count: int, prefix: str):
    """``count`` new posts, each scheduled by ``user``, all due at one instant.

    Scheduled a day ahead, then moved to an instant a few seconds away once all exist:
    creating them takes longer than a few seconds on a busy machine.
    """
    author = Author.objects.first()
    pairs = []
    for i in range(count):
        post = make_post(blog, f"{prefix} {i}", dt.date(2030, 1, 1), author, publish=False)
        post.go_live_at = timezone.now() + dt.timedelta(days=1)
        post.title = f"{post.title} {SEARCH_WORD}"  # in the scheduled revision only
        revision = post.save_revision(user=user)
        revision.publish(user=user)
        pairs.append((post.pk, revision.pk))
    instant = timezone.now() + dt.timedelta(seconds=12)
    for page_id, revision_id in pairs:
        revision = Revision.objects.get(pk=revision_id)
        revision.content["go_live_at"] = instant.isoformat()
        Revision.objects.filter(pk=revision_id).update(
            content=revision.content, approved_go_live_at=instant
        )
        BlogPostPage.objects.filter(pk=page_id).update(go_live_at=instant)
    return pairs


def assert_signals_and_audit_intact(pairs, user) -> None:
    # Wagtail's after-publish step (page_published) follows each go-live as a task.
    revisions = [revision_id for _, revision_id in pairs]
    wait_until(
        lambda: not GoLiveFollowUp.objects.filter(revision_id__in=revisions).exists(),
        60,
        what="the go-lives' follow-ups",
    )
    for page_id, revision_id in pairs:
        title = BlogPostPage.objects.get(pk=page_id).title
        # The webhooks' page_published listener counts what it heard, per page.
        state = WebhookPageState.objects.filter(page_id=page_id).first()
        assert state is not None and state.announced_live, f"{title}: signal not heard"
        assert state.version == 1, f"{title}: heard {state.version} times"
        scheduled_by = PageLogEntry.objects.filter(
            page_id=page_id, revision_id=revision_id, action="wagtail.publish.schedule"
        )
        assert list(scheduled_by.values_list("user_id", flat=True)) == [user.pk], title


def search_index_caught_up(pairs) -> bool:
    """The worker ran Wagtail's search-index task (sent after commit) for every page: only
    the scheduled revisions' titles carry the word searched for."""
    found = {page.pk for page in BlogPostPage.objects.search(SEARCH_WORD)}
    return {page_id for page_id, _ in pairs} <= found


def test_a_burst_at_one_instant_goes_live_once_with_signals_and_audit(
    seed, celery_processes, admin_user
):
    pairs = schedule_burst(seed["blog"], admin_user, 30, "Burst")
    assert live_count(pairs) == 0
    assert not WebhookPageState.objects.filter(page_id__in=[p for p, _ in pairs]).exists()

    worker = celery_processes("worker")
    celery_processes("beat")
    wait_until(lambda: live_count(pairs) == len(pairs), 90, what="the burst to go live")

    assert_published_once(pairs)
    assert_signals_and_audit_intact(pairs, admin_user)
    wait_until(lambda: search_index_caught_up(pairs), 60, what="the search index")
    # The burst took the batch path (the single-item path is covered by the other tests).
    assert "publish_scheduled_revisions" in worker.output()


def test_kill_9_of_the_worker_mid_batch_loses_nothing_and_doubles_nothing(
    seed, celery_processes, admin_user
):
    pairs = schedule_burst(seed["blog"], admin_user, 40, "Batch crash")
    worker = celery_processes("worker")
    celery_processes("beat")
    # Kill it once the first batch has committed: later batches are running or held.
    wait_until(lambda: live_count(pairs) >= 1, 90, interval=0.02, what="the first batch")
    worker.kill9()
    done_at_kill = live_count(pairs)
    assert done_at_kill < len(pairs), "the burst finished before the kill; nothing was tested"

    celery_processes("worker")
    wait_until(lambda: live_count(pairs) == len(pairs), 90, what="every page after the crash")
    assert_published_once(pairs)
    assert_signals_and_audit_intact(pairs, admin_user)
