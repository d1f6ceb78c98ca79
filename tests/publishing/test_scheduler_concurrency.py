"""Two claimants on the same due items publish each exactly once (threads and processes).

On PostgreSQL the claim is ``SELECT ... FOR UPDATE SKIP LOCKED`` on the object row; on
SQLite the project's ``transaction_mode=IMMEDIATE`` makes every write transaction take
the database write lock at BEGIN, so claimants in separate connections or processes are
serialised and the loser's re-check finds the item already published.
"""

import datetime as dt
import os
import subprocess
import sys
import threading

import pytest
from django.db import connection
from django.utils import timezone
from wagtail.models import PageLogEntry, Revision

from cms.models import Author, BlogPostPage
from publishing.scheduler import engine as scheduler
from publishing.scheduler.engine import Outcome
from tests.factories import make_post
from tests.services import ROOT


def schedule_due_posts(blog, count: int, prefix: str) -> list[tuple[int, int]]:
    """Posts scheduled a minute ahead, then moved into the past as if that minute passed."""
    author = Author.objects.first()
    go_live = timezone.now() + dt.timedelta(minutes=1)
    pairs = []
    for i in range(count):
        post = make_post(blog, f"{prefix} {i}", dt.date(2030, 1, 1), author, publish=False)
        post.go_live_at = go_live
        revision = post.save_revision()
        revision.publish()
        pairs.append((post.pk, revision.pk))
    past = timezone.now() - dt.timedelta(seconds=1)
    Revision.objects.filter(pk__in=[r for _, r in pairs]).update(approved_go_live_at=past)
    BlogPostPage.objects.filter(pk__in=[p for p, _ in pairs]).update(go_live_at=past)
    # The revision content carries go_live_at too; Wagtail publishes from it.
    for _post_pk, revision_pk in pairs:
        revision = Revision.objects.get(pk=revision_pk)
        revision.content["go_live_at"] = past.isoformat()
        Revision.objects.filter(pk=revision_pk).update(content=revision.content)
    return pairs


def assert_each_published_once(pairs) -> None:
    for post_pk, revision_pk in pairs:
        post = BlogPostPage.objects.get(pk=post_pk)
        assert post.live and post.live_revision_id == revision_pk
        entries = PageLogEntry.objects.filter(page_id=post_pk, action="wagtail.publish.scheduled")
        assert entries.count() == 1, f"page {post_pk} has {entries.count()} scheduled publishes"


@pytest.mark.django_db(transaction=True)
def test_two_threads_racing_for_each_item_publish_it_once(seed):
    pairs = schedule_due_posts(seed["blog"], 8, "Raced")
    outcomes: dict[int, list[Outcome]] = {rev: [] for _, rev in pairs}
    barrier = threading.Barrier(2, timeout=60)
    errors = []

    def claimant() -> None:
        try:
            for _post_pk, revision_pk in pairs:
                barrier.wait()  # both start on the same item at the same moment
                outcomes[revision_pk].append(scheduler.publish_due_revision(revision_pk))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimant) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    for revision_pk, results in outcomes.items():
        assert sorted(results).count(Outcome.PUBLISHED) == 1, (revision_pk, results)
        assert set(results) <= {Outcome.PUBLISHED, Outcome.NOTHING, Outcome.BUSY}
    assert_each_published_once(pairs)


@pytest.mark.django_db(transaction=True)
def test_two_publish_scheduled_processes_at_once_publish_each_item_once(seed, live_db_url):
    """What 'beat and a manual publish_scheduled at the same time' comes down to."""
    pairs = schedule_due_posts(seed["blog"], 30, "Two commands")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "DATABASE_URL": live_db_url,
        "LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "manage.py", "publish_scheduled"]
    processes = [
        subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=240) for process in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()[-2000:]
    published = [
        int(part.split()[0])
        for out, _err in outputs
        for part in out.decode().strip().split(", ")
        if part.endswith("published")
    ]
    assert sum(published) == len(pairs), outputs
    assert_each_published_once(pairs)
