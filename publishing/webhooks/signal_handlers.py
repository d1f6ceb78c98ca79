"""Wagtail's page signals and view restrictions → webhook events (outbox rows).

Scheduled publishing and expiry fire the same ``page_published``/``page_unpublished``
signals, so they need nothing extra here.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from cms import visibility
from publishing.webhooks import events

DISPATCH_PREFIX = "publishing.webhooks"


def on_page_published(sender, instance: Page, revision=None, alias: bool = False, **kwargs) -> None:
    # An alias repeats its original's content at another URL; partners get the original.
    if alias:
        return
    events.page_went_live(instance)


def on_page_unpublished(sender, instance: Page, **kwargs) -> None:
    events.page_went_away(instance)


def on_restriction_saved(sender, instance: PageViewRestriction, created: bool, **kwargs) -> None:
    """A page made private: partners must drop it and everything under it."""
    if not created:
        return
    for page in instance.page.get_descendants(inclusive=True).live().specific():
        events.page_went_away(page)


def on_restriction_deleted(sender, instance: PageViewRestriction, **kwargs) -> None:
    """A restriction lifted: pages that are now public are published to partners again.

    Decided after commit, not here: a restriction is also deleted when its page is
    being deleted, and a page on its way out must never be announced as published.
    """
    transaction.on_commit(partial(republish_if_public, instance.page_id))


def republish_if_public(page_id: int) -> None:
    root = Page.objects.filter(pk=page_id).first()
    if root is None:
        return  # the page was deleted along with its restriction
    with transaction.atomic():
        for page in root.get_descendants(inclusive=True).live().specific():
            events.page_went_live(page)


def on_page_moved(
    sender, instance: Page, url_path_before: str, url_path_after: str, **kwargs
) -> None:
    """A move changes canonical URLs, and may carry pages into or out of a private section."""
    if url_path_before == url_path_after:
        return
    for page in instance.get_descendants(inclusive=True).live().specific():
        if visibility.is_public(page):
            events.page_went_live(page)
        else:
            events.page_went_away(page)


def on_page_deleted(sender, instance, **kwargs) -> None:
    """[changes feed] A page deleted (with each of its descendants): ``page.deleted``.

    Connected for the base ``Page`` only, so a page of a specific type, whose row is
    deleted with its base row, is told once.
    """
    if type(instance) is Page:
        events.page_deleted(instance)


def register_signal_handlers() -> None:
    page_published.connect(on_page_published, dispatch_uid=f"{DISPATCH_PREFIX}.published")
    page_unpublished.connect(on_page_unpublished, dispatch_uid=f"{DISPATCH_PREFIX}.unpublished")
    post_page_move.connect(on_page_moved, dispatch_uid=f"{DISPATCH_PREFIX}.moved")
    post_save.connect(
        on_restriction_saved, sender=PageViewRestriction, dispatch_uid=f"{DISPATCH_PREFIX}.private"
    )
    pre_delete.connect(on_page_deleted, sender=Page, dispatch_uid=f"{DISPATCH_PREFIX}.deleted")
    post_delete.connect(
        on_restriction_deleted,
        sender=PageViewRestriction,
        dispatch_uid=f"{DISPATCH_PREFIX}.public",
    )
