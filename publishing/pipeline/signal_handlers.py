"""The one place a content change enters the publish pipeline.

Every receiver below runs inside the transaction that makes the change. It adds what
changed to that transaction's :class:`~publishing.pipeline.change.Change` (affected URLs,
feeds) and writes the webhook outbox rows, held until the CDN is purged. When the
transaction commits, :func:`publishing.pipeline.steps.run` does, in order and once:
our own caches, the CDN purge, then WebSub pings and webhook sends.

Follow a publish: Wagtail's ``Revision.publish()`` (admin, API) sends ``page_published``
→ :func:`on_page_published` → ``steps.run`` after commit. A scheduled go-live sends it
from its follow-up, just after the go-live commits (``publishing.scheduler.follow_up``);
the go-live's own page save reaches :func:`on_page_saved`, so our caches and the CDN
have the page first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Collection, CollectionViewRestriction, Page, PageViewRestriction, Site
from wagtail.signals import (
    page_published,
    page_unpublished,
    post_page_move,
    published,
    unpublished,
)

from cms import visibility
from cms.models import (
    Author,
    BlogPostAuthor,
    HomePagePromo,
    NavigationItem,
    Promo,
    ReaderTrustSettings,
)
from publishing.governance.signals import review_lapsed
from publishing.pipeline import media, steps
from publishing.pipeline.change import Change, collecting
from publishing.syndication.feeds import FeedKey
from publishing.syndication.websub import (
    feed_keys_for_page,
    feed_keys_for_subtree,
    previously_published_keys,
)
from publishing.webhooks import events

UID = "publishing.pipeline"


@contextmanager
def change() -> Iterator[Change]:
    with collecting(steps.run) as current:
        yield current


def went_live(current: Change, page: Page) -> None:
    """Outbox rows for partners: ``page.published`` or ``page.updated``."""
    event = events.page_went_live(page, not_before=steps.hold_until())
    if event is not None:
        current.delivery_ids += events.delivery_ids(event)


def went_away(current: Change, page: Page) -> None:
    """Outbox rows for partners: ``page.unpublished``."""
    event = events.page_went_away(page, not_before=steps.hold_until())
    if event is not None:
        current.delivery_ids += events.delivery_ids(event)


def on_page_published(sender, instance: Page, revision=None, alias: bool = False, **kwargs) -> None:
    with change() as current:
        current.add_page(instance)
        if not visibility.is_public(instance):
            # Wagtail sends this when a first publish is only scheduled, and for private
            # pages: no feed or partner may hear of it (a ping would name its topics).
            return
        current.add_feeds(feed_keys_for_page(instance))
        current.add_feeds(previously_published_keys(instance, getattr(revision, "pk", None)))
        if not alias:  # an alias repeats its original at another URL; partners get the original
            went_live(current, instance)


def on_page_unpublished(sender, instance: Page, **kwargs) -> None:
    with change() as current:
        current.add_page(instance)
        if not visibility.is_restricted(instance):  # a private page was in no feed
            current.add_feeds(feed_keys_for_page(instance))
        went_away(current, instance)


def on_page_moved(
    sender, instance: Page, url_path_before: str, url_path_after: str, **kwargs
) -> None:
    """A move changes URLs, and may carry pages into or out of a private section."""
    with change() as current:
        current.add_page(instance, old_url_path=url_path_before)
        current.add_feeds(feed_keys_for_subtree(instance))
        if url_path_before == url_path_after:
            return
        for page in instance.get_descendants(inclusive=True).live().specific():
            current.add_page(page)
            if visibility.is_public(page):
                went_live(current, page)
            else:
                went_away(current, page)


def on_page_saved(sender, instance, update_fields=None, **kwargs) -> None:
    """A page row saved outright (not a draft: Wagtail saves those with ``update_fields``)."""
    if not isinstance(instance, Page) or update_fields is not None:
        return
    with change() as current:
        if instance.live:
            current.add_page(instance)


def on_page_deleted(sender, instance, **kwargs) -> None:
    """Before the rows go: the URLs and feeds the page was in can still be read."""
    if not isinstance(instance, Page):
        return
    with change() as current:
        current.add_page_now(instance)
        if visibility.is_public(instance):
            current.add_feeds(feed_keys_for_page(instance))
        # The base row's signal only: a specific page's row goes with it, told once.
        if type(instance) is Page and events.may_be_known(instance):
            went_away(current, instance)  # pushed: partners drop it (once, if not already)
            events.page_deleted(instance)  # the changes feed's tombstone


def on_restriction_saved(
    sender, instance: PageViewRestriction, created: bool = False, **kwargs
) -> None:
    """A page made private: it leaves every feed, and partners must drop it and its subtree."""
    with change() as current:
        current.all_feeds = True
        page = Page.objects.filter(pk=instance.page_id).first()
        if page is None:
            return
        current.add_feeds(feed_keys_for_subtree(page))
        for each in page.get_descendants(inclusive=True).live().specific():
            current.add_page(each)
            if created:
                went_away(current, each)


def on_restriction_deleted(sender, instance: PageViewRestriction, **kwargs) -> None:
    """A restriction lifted: pages now public are announced again, decided after commit.

    Not here: a restriction is also deleted when its page is being deleted, and a page
    on its way out must never be announced as published.
    """
    with change() as current:
        current.all_feeds = True
    transaction.on_commit(partial(republish_if_public, instance.page_id))


def republish_if_public(page_id: int) -> None:
    root = Page.objects.filter(pk=page_id).first()
    if root is None:
        return  # the page was deleted along with its restriction
    with transaction.atomic(), change() as current:
        current.add_feeds(feed_keys_for_subtree(root))
        for page in root.get_descendants(inclusive=True).live().specific():
            current.add_page(page)
            went_live(current, page)


def on_review_lapsed(sender, instance: Page, **kwargs) -> None:
    """A lapsed clinical review puts a banner on the page: its answers and feeds change."""
    with change() as current:
        current.add_page(instance)
        if not visibility.is_public(instance):
            return
        current.add_feeds(feed_keys_for_page(instance))
        event = events.page_review_lapsed(instance, not_before=steps.hold_until())
        if event is not None:
            current.delivery_ids += events.delivery_ids(event)


def on_author_changed(sender, instance: Author, **kwargs) -> None:
    """A byline (name, credentials, photo) shows on the author's live posts, their listings
    and API answers: those URLs are purged, as for a publish of each post."""
    with change() as current:
        current.add_feeds({FeedKey("blog"), FeedKey("author", instance.slug)})
        credited = BlogPostAuthor.objects.filter(author_id=instance.pk).values("page_id")
        for page in Page.objects.live().filter(pk__in=credited).only("pk"):
            current.add_page(page)


def on_site_changed(sender, instance: Site, **kwargs) -> None:
    """Every absolute URL in every feed and answer depends on the site's hostname."""
    with change() as current:
        current.all_feeds = True


def on_reader_settings_changed(sender, instance, **kwargs) -> None:
    """The contact block, notices and menu are on every reader page of the site."""
    if isinstance(instance, NavigationItem):
        rows = ReaderTrustSettings.objects.filter(pk=instance.setting_id)
        site_id = rows.values_list("site_id", flat=True).first()
    else:
        site_id = instance.site_id
    site = Site.objects.filter(pk=site_id).select_related("root_page").first()
    with change() as current:  # our caches go in any case
        if site is None:
            return
        for page in Page.objects.live().descendant_of(site.root_page, inclusive=True).only("pk"):
            current.add_page(page)


def on_promo_changed(sender, instance, **kwargs) -> None:
    """A promotion published, unpublished (its campaign over) or deleted: the home pages
    that place it show it, or stop showing it."""
    with change() as current:  # any snippet's publish: our caches go, at least
        if not isinstance(instance, Promo):
            return
        placed = HomePagePromo.objects.filter(promo_id=instance.pk).values("page_id")
        for page in Page.objects.filter(pk__in=placed).only("pk"):
            current.add_page(page)


def on_media_changed(sender, instance, **kwargs) -> None:
    """An image or document saved (perhaps into a private collection) or deleted: its
    files, renditions and download URL are read now, before any row goes."""
    with change() as current:
        current.urls |= media.urls_of_media([instance])


def on_collection_privacy_changed(sender, instance: CollectionViewRestriction, **kwargs) -> None:
    """Files in a collection made private (or public again), and in collections under it."""
    collection = Collection.objects.filter(pk=instance.collection_id).first()
    with change() as current:  # our caches go in any case
        if collection is None:
            return
        current.urls |= media.urls_of_collections(
            collection.get_descendants(inclusive=True).values_list("pk", flat=True)
        )


def register_signal_handlers() -> None:
    page_published.connect(on_page_published, dispatch_uid=f"{UID}.published")
    page_unpublished.connect(on_page_unpublished, dispatch_uid=f"{UID}.unpublished")
    post_page_move.connect(on_page_moved, dispatch_uid=f"{UID}.moved")
    review_lapsed.connect(on_review_lapsed, dispatch_uid=f"{UID}.review_lapsed")
    post_save.connect(on_page_saved, dispatch_uid=f"{UID}.saved")
    pre_delete.connect(on_page_deleted, dispatch_uid=f"{UID}.deleted")
    post_save.connect(
        on_restriction_saved, sender=PageViewRestriction, dispatch_uid=f"{UID}.private"
    )
    post_delete.connect(
        on_restriction_deleted, sender=PageViewRestriction, dispatch_uid=f"{UID}.public"
    )
    for signal, name in ((post_save, "saved"), (post_delete, "deleted")):
        signal.connect(on_author_changed, sender=Author, dispatch_uid=f"{UID}.author_{name}")
        signal.connect(on_site_changed, sender=Site, dispatch_uid=f"{UID}.site_{name}")
        for model in (ReaderTrustSettings, NavigationItem):
            signal.connect(
                on_reader_settings_changed,
                sender=model,
                dispatch_uid=f"{UID}.{model.__name__}_{name}",
            )
        signal.connect(
            on_collection_privacy_changed,
            sender=CollectionViewRestriction,
            dispatch_uid=f"{UID}.collection_privacy_{name}",
        )
    # Snippets' own publish signals (Wagtail sends these for DraftStateMixin models).
    for signal, name in ((published, "published"), (unpublished, "unpublished")):
        signal.connect(on_promo_changed, dispatch_uid=f"{UID}.promo_{name}")
    # Before the rows go: its placements are deleted with it.
    pre_delete.connect(on_promo_changed, sender=Promo, dispatch_uid=f"{UID}.promo_deleted")
    for model in (get_image_model(), get_document_model()):
        post_save.connect(on_media_changed, sender=model, dispatch_uid=f"{UID}.{model.__name__}")
        pre_delete.connect(
            on_media_changed, sender=model, dispatch_uid=f"{UID}.{model.__name__}_deleted"
        )
