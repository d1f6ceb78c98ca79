"""Keep feeds fresh: invalidate the feed cache and ping WebSub hubs on every change.

Connected by :func:`register_signal_handlers`, from ``PublishingConfig.ready()``. Which
feeds a change touches is worked out while the old state is still readable (before a
delete, at unpublish); the cache is invalidated and pings are queued only after the
transaction commits, so nobody rebuilds a feed from rows that are about to change, and a
rolled-back publish pings no one. ``robust=True``: a broker or hub problem is logged,
never fails the publish.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from cms import visibility
from cms.models import Author

from .cache import invalidate_feeds
from .feeds import FeedKey
from .websub import (
    enqueue_pings,
    feed_keys_for_page,
    feed_keys_for_subtree,
    previously_published_keys,
    topic_urls,
)

logger = logging.getLogger(__name__)


def feeds_changed(keys: set[FeedKey]) -> None:
    """After commit: drop cached feeds and ping the hubs for ``keys``' topics."""
    if not keys:
        return
    topics = topic_urls(keys)

    def after_commit() -> None:
        invalidate_feeds()
        enqueue_pings(topics)

    transaction.on_commit(after_commit, robust=True)


def on_page_published(sender, instance: Page, revision=None, **kwargs) -> None:
    if not visibility.is_public(instance):
        # Wagtail sends this when a first publish is only scheduled: no feed changes yet;
        # the scheduled publish itself sends it again. A private page is in no feed, and
        # a ping would name its tag and author topics to the hub.
        return
    keys = feed_keys_for_page(instance)
    keys |= previously_published_keys(instance, getattr(revision, "pk", None))
    feeds_changed(keys)


def on_page_unpublished(sender, instance: Page, **kwargs) -> None:
    if not visibility.is_restricted(instance):  # a private page was in no feed
        feeds_changed(feed_keys_for_page(instance))


def on_page_moved(sender, instance: Page, **kwargs) -> None:
    feeds_changed(feed_keys_for_subtree(instance))


def on_page_deleted(sender, instance, **kwargs) -> None:
    if isinstance(instance, Page) and visibility.is_public(instance):
        feeds_changed(feed_keys_for_page(instance))


def on_restriction_changed(sender, instance: PageViewRestriction, **kwargs) -> None:
    """A page made private (or public again) leaves (or rejoins) every feed at once."""
    page = Page.objects.filter(pk=instance.page_id).first()
    if page is not None:
        feeds_changed(feed_keys_for_subtree(page))
    else:
        transaction.on_commit(invalidate_feeds, robust=True)


def on_author_changed(sender, instance: Author, **kwargs) -> None:
    feeds_changed({FeedKey("blog"), FeedKey("author", instance.slug)})


def on_site_changed(sender, instance: Site, **kwargs) -> None:
    """Every absolute URL in every feed depends on the site's hostname."""
    transaction.on_commit(invalidate_feeds, robust=True)


def register_signal_handlers() -> None:
    uid = "publishing.syndication"
    page_published.connect(on_page_published, dispatch_uid=f"{uid}.published")
    page_unpublished.connect(on_page_unpublished, dispatch_uid=f"{uid}.unpublished")
    post_page_move.connect(on_page_moved, dispatch_uid=f"{uid}.moved")
    pre_delete.connect(on_page_deleted, dispatch_uid=f"{uid}.deleted")
    for signal, name in ((post_save, "saved"), (post_delete, "deleted")):
        signal.connect(
            on_restriction_changed,
            sender=PageViewRestriction,
            dispatch_uid=f"{uid}.restriction_{name}",
        )
        signal.connect(on_author_changed, sender=Author, dispatch_uid=f"{uid}.author_{name}")
    post_save.connect(on_site_changed, sender=Site, dispatch_uid=f"{uid}.site")
