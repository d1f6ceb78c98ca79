"""Invalidate stored public responses whenever what readers may see changes.

Connected from ``CmsConfig.ready()``. Coarse on purpose: editorial writes are rare next
to reads, so every change that can alter a public page or API answer replaces the one
generation token. Twice: at once, so reads later in the same transaction (the
editor's own request) see the change, and again after commit (once per transaction),
because a reader in between may have stored what it read from the rows not yet
committed. Draft saves do
not count: Wagtail saves the page row with ``update_fields`` then, and a draft changes
nothing public.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import CollectionViewRestriction, Page, PageViewRestriction, Site
from wagtail.signals import (
    page_published,
    page_unpublished,
    post_page_move,
    published,
    unpublished,
)

from .response_cache import invalidate_responses

logger = logging.getLogger(__name__)


def _changed(**kwargs) -> None:
    try:
        invalidate_responses()
    except Exception:  # noqa: BLE001 - a cache outage must never fail a publish
        logger.warning("could not invalidate stored responses", exc_info=True)
    _on_commit_once(invalidate_responses)


def _on_commit_once(func) -> None:
    """``on_commit(func)`` unless this transaction already runs it: one save fires several
    signals, and a scheduled burst publishes many pages per commit; one replacement after
    commit covers them all. Safe with savepoints: a pending callback is still listed only
    if it will run whenever this change commits (a rolled-back savepoint drops both)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(entry[1] is func for entry in connection.run_on_commit):
        return
    transaction.on_commit(func, robust=True)


def _page_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if isinstance(instance, Page) and update_fields is None:
        _changed()


def _page_deleted(sender, instance, **kwargs) -> None:
    if isinstance(instance, Page):
        _changed()


def connect() -> None:
    from cms.models import Author, NavigationItem, ReaderTrustSettings

    for signal in (page_published, page_unpublished, post_page_move, published, unpublished):
        signal.connect(_changed, dispatch_uid=f"response_cache:{id(signal)}")
    post_save.connect(_page_saved, dispatch_uid="response_cache:page_saved")
    post_delete.connect(_page_deleted, dispatch_uid="response_cache:page_deleted")
    for model in (
        PageViewRestriction,
        CollectionViewRestriction,
        Site,
        Author,
        # Every reader page shows the contact block, notices and menu (site settings).
        ReaderTrustSettings,
        NavigationItem,
        get_image_model(),
        get_document_model(),
    ):
        for signal in (post_save, post_delete):
            signal.connect(_changed, sender=model, dispatch_uid=f"response_cache:{model.__name__}")
