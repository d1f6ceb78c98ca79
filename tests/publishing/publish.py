"""Publishing as the admin's edit view and the scheduler do it: in one transaction."""

from __future__ import annotations

from django.db import transaction


def publish_title(post, title: str) -> None:
    """Publish a new revision of ``post`` with ``title``, committed as one transaction."""
    post.title = title
    with transaction.atomic():
        post.save_revision().publish()
