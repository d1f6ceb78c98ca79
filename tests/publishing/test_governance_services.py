"""Review lapses with real processes: armed to the second, once, through a worker kill -9.

A lapse is a scheduled item of the scheduler (publishing/scheduler/engine.py): beat's
sweep arms a ``lapse_review`` wake-up for the instant, the worker claims it under the
page's row lock and writes one ``publishing.review_lapsed`` audit entry and one
``page.review_lapsed`` event. The lapse time of day is a setting
(``CLINICAL_REVIEW_LAPSE_TIME``), which lets these tests put the instant a few seconds
ahead; the bounds are those of the scheduled-publishing tests
(tests/publishing/test_scheduler_services.py).
"""

from __future__ import annotations

import datetime as dt
import os
import signal

import psutil
import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from wagtail.models import Page, PageLogEntry

from cms.models import Author, BlogPostPage
from publishing.governance import lapse
from publishing.models import WebhookEvent
from screening.models import ScreenerPage
from tests.cms.test_site import make_post
from tests.services import CeleryProcess, wait_until

pytestmark = [pytest.mark.services]

#: Seconds from choosing the instant to the instant: long enough for worker and beat to
#: start on a loaded machine, so the lapse is armed ahead of time as a publish is.
LEAD = 20


def lapse_pages(seed, count: int) -> list[Page]:
    """The screener plus ``count`` new live blog posts: health pages that can lapse."""
    author = Author.objects.first()
    posts = [
        make_post(seed["blog"], f"Lapsing {i}", dt.date(2030, 1, 1), author) for i in range(count)
    ]
    return [ScreenerPage.objects.get(), *posts]


def choose_instant(settings, celery_env) -> dt.datetime:
    """A whole second LEAD seconds ahead, made the lapse time of day here and in the
    worker's environment (set before the worker starts)."""
    instant = (timezone.now() + dt.timedelta(seconds=LEAD)).replace(microsecond=0)
    local = timezone.localtime(instant).time().isoformat()
    settings.CLINICAL_REVIEW_LAPSE_TIME = celery_env["CLINICAL_REVIEW_LAPSE_TIME"] = local
    return instant


def make_due(pages: list[Page], instant: dt.datetime) -> None:
    """Reviews of ``pages`` due on the instant's day (the instant is the lapse time)."""
    if timezone.now() > instant - dt.timedelta(seconds=2):
        pytest.fail(f"worker and beat took more than {LEAD - 2} s to start; nothing was armed")
    due = timezone.localdate(instant)
    for page in pages:
        type(page).objects.filter(pk=page.pk).update(next_review_due=due, review_lapsed_on=None)
    assert lapse.lapse_at(due) == instant


def lapsed_count(pages: list[Page]) -> int:
    return PageLogEntry.objects.filter(
        page_id__in=[p.pk for p in pages], action=lapse.LOG_ACTION
    ).count()


def assert_lapsed_once(pages: list[Page], instant: dt.datetime) -> list[float]:
    """One audit entry and one ``page.review_lapsed`` event per page; returns lateness."""
    lateness = []
    for page in pages:
        page = type(page).objects.get(pk=page.pk)
        assert page.review_lapsed_on == page.next_review_due and page.live, page.title
        entries = list(PageLogEntry.objects.filter(page_id=page.pk, action=lapse.LOG_ACTION))
        assert len(entries) == 1, (page.title, len(entries))
        assert parse_datetime(entries[0].data["scheduled_at"]) == instant, page.title
        events = WebhookEvent.objects.filter(type="page.review_lapsed", page_id=page.pk)
        assert events.count() == 1, (page.title, events.count())
        lateness.append((entries[0].timestamp - instant).total_seconds())
    assert min(lateness) >= 0, f"a lapse went off early: {lateness}"
    return lateness


def start_worker_and_beat(celery_processes) -> CeleryProcess:
    worker = celery_processes("worker")
    celery_processes("beat")
    return worker


def test_lapses_due_at_a_second_go_off_on_time_once(seed, settings, celery_env, celery_processes):
    pages = lapse_pages(seed, 5)
    instant = choose_instant(settings, celery_env)
    worker = start_worker_and_beat(celery_processes)
    make_due(pages, instant)

    wait_until(lambda: lapsed_count(pages) >= len(pages), LEAD + 60, what="the lapses")
    lateness = assert_lapsed_once(pages, instant)
    # The bound of the scheduled-publishing test; the benchmark reports the real figures.
    assert max(lateness) < 5, lateness
    assert "lapse_review" in worker.output()  # armed as a wake-up, not found by a sweep
    # Nothing more comes: a later sweep or a re-delivery finds every lapse done.
    wait_until(lambda: timezone.now() > instant + dt.timedelta(seconds=3), 30, what="3 s more")
    assert_lapsed_once(pages, instant)


def kill_pool_processes(worker: CeleryProcess) -> int:
    """SIGKILL the worker's pool processes (the main process lives and forks new ones)."""
    children = psutil.Process(worker.process.pid).children()
    for child in children:
        os.kill(child.pid, signal.SIGKILL)
    return len(children)


@pytest.mark.parametrize("victim", ["main", "pool"])
def test_kill_9_of_the_worker_at_the_lapse_instant_still_lapses_once(
    seed, settings, celery_env, celery_processes, victim
):
    pages = lapse_pages(seed, 24)
    instant = choose_instant(settings, celery_env)
    worker = start_worker_and_beat(celery_processes)
    make_due(pages, instant)

    # Kill it as the lapses go off: some applied, the rest held or running in its pool.
    wait_until(lambda: lapsed_count(pages) >= 1, LEAD + 60, interval=0.02, what="first lapse")
    if victim == "main":
        worker.kill9()  # the whole process group, as a crashed machine would
    else:
        assert kill_pool_processes(worker) > 0
    done_at_kill = lapsed_count(pages)
    assert done_at_kill < len(pages), "every lapse was done before the kill; nothing was tested"
    if victim == "main":
        celery_processes("worker")

    wait_until(lambda: lapsed_count(pages) >= len(pages), 90, what="every lapse after the kill")
    lateness = assert_lapsed_once(pages, instant)
    assert max(lateness) < 30, lateness
    # None is applied twice later either (a re-armed wake-up finds each done).
    wait_until(lambda: timezone.now() > instant + dt.timedelta(seconds=12), 60, what="re-arming")
    assert_lapsed_once(pages, instant)
    assert BlogPostPage.objects.filter(pk__in=[p.pk for p in pages], live=True).count() == 24
