"""Publishing and scheduling as editors do it, for tests and benchmarks: in one transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from wagtail.models import PageLogEntry, Revision

from cms.models import Author, BlogPostPage
from tests.factories import make_post


def publish_title(post, title: str) -> None:
    """Publish a new revision of ``post`` with ``title``, committed as one transaction."""
    post.title = title
    with transaction.atomic():
        post.save_revision().publish()


def retime(pairs: list[tuple[int, int]], times: list[dt.datetime] | dt.datetime) -> None:
    """Move scheduled revisions to ``times`` (content, revision and page agree), at once."""
    if isinstance(times, dt.datetime):
        times = [times] * len(pairs)
    with transaction.atomic():
        for (page_pk, revision_pk), when in zip(pairs, times, strict=True):
            revision = Revision.objects.get(pk=revision_pk)
            revision.content["go_live_at"] = when.isoformat()
            Revision.objects.filter(pk=revision_pk).update(
                content=revision.content, approved_go_live_at=when
            )
            BlogPostPage.objects.filter(pk=page_pk).update(go_live_at=when)


def schedule_post(blog, title, go_live_at, expire_at=None, user=None):
    """A new post scheduled the way the admin does it: save a revision, 'publish' it."""
    post = make_post(blog, title, dt.date(2030, 1, 1), Author.objects.first(), publish=False)
    post.go_live_at = go_live_at
    post.expire_at = expire_at
    revision = post.save_revision(user=user)
    revision.publish(user=user)
    post.refresh_from_db()
    return post, revision


def schedule_posts(blog, times: list[dt.datetime], prefix: str) -> list[tuple[int, int]]:
    """Posts scheduled through ``revision.publish()`` to go live at ``times``.

    Scheduled a day later first, then brought to ``times`` in one transaction: on a busy
    machine, creating the posts can take longer than a test's lead, and Wagtail publishes
    at once (as ``wagtail.publish``, not by the scheduler) a revision whose time has passed.
    """
    author = Author.objects.first()
    pairs = []
    for i, when in enumerate(times):
        post = make_post(blog, f"{prefix} {i}", dt.date(2030, 1, 1), author, publish=False)
        post.go_live_at = when + dt.timedelta(days=1)
        revision = post.save_revision()
        revision.publish()
        pairs.append((post.pk, revision.pk))
    retime(pairs, times)
    return pairs


def live_count(pairs) -> int:
    return BlogPostPage.objects.filter(pk__in=[p for p, _ in pairs], live=True).count()


def assert_published_once(pairs) -> list[float]:
    """Every page live with its scheduled revision, one audit entry each; returns lateness."""
    lateness = []
    for post_pk, revision_pk in pairs:
        post = BlogPostPage.objects.get(pk=post_pk)
        assert post.live and post.live_revision_id == revision_pk, post.title
        entries = PageLogEntry.objects.filter(page_id=post_pk, action="wagtail.publish.scheduled")
        assert list(entries.values_list("revision_id", flat=True)) == [revision_pk], post.title
        lateness.append((post.first_published_at - post.go_live_at).total_seconds())
    return lateness
