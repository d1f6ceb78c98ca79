"""Publishing as the admin's edit view and the scheduler do it: in one transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from wagtail.models import Revision

from cms.models import BlogPostPage


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
