"""WebSub publisher side: tell each configured hub which feed topics just changed.

Hubs come from ``settings.WEBSUB_HUBS``. One task per hub, so a hub that is down
retries (with exponential backoff) on its own and never delays the others, nor the
publish that triggered it: pings are sent by a worker after the transaction commits.
"""

from __future__ import annotations

import logging

import requests
from celery import shared_task
from django.conf import settings
from django.db.models import Q
from wagtail.models import Page, PageLogEntry, Site

from cms.models import BlogPostAuthor
from cms.models.base import PUBLISH_LOG_ACTIONS
from cms.syndication import Role, syndicated_models, syndication_of

from .feeds import FORMATS, FeedKey

logger = logging.getLogger(__name__)

#: (connect, read) seconds: a slow hub must not hold a worker slot for long.
HUB_TIMEOUT = (3.05, 10)


class HubUnavailable(Exception):
    """The hub answered with a status worth retrying (5xx, 429)."""


def site_root_url() -> str:
    site = Site.objects.filter(is_default_site=True).first()
    return site.root_url if site else settings.WAGTAILADMIN_BASE_URL.rstrip("/")


def topic_urls(keys: set[FeedKey]) -> list[str]:
    """The WebSub topics (subscription documents, every format) of the given feeds."""
    root = site_root_url()
    return sorted(root + key.path(fmt) for key in keys for fmt in FORMATS)


def feed_keys_for_page(page: Page) -> set[FeedKey]:
    """Feeds whose content ``page`` appears in (or shapes, for a listing or ancestor)."""
    page = page.specific
    facts = syndication_of(page)
    if facts is None or facts.role is not Role.ITEM:
        return feed_keys_for_subtree(page)
    keys = {FeedKey(facts.feed)}
    if facts.tag_and_author_feeds:
        keys |= {FeedKey("tag", tag.slug) for tag in page.tags.all()}
        keys |= {FeedKey("author", author.slug) for author in page.author_list}
    return keys


def feed_keys_for_subtree(page: Page) -> set[FeedKey]:
    """Every feed that draws on ``page`` or its descendants, live or not."""
    keys: set[FeedKey] = set()
    subtree = Q(path__startswith=page.path)
    for model in syndicated_models():
        facts = syndication_of(model)
        pages = model.objects.filter(subtree)
        if FeedKey(facts.feed) not in keys and pages.exists():
            keys.add(FeedKey(facts.feed))
        if facts.role is Role.ITEM and facts.tag_and_author_feeds:
            keys |= {FeedKey("tag", slug) for slug in _tag_slugs(model, pages)}
            keys |= {FeedKey("author", slug) for slug in _author_slugs(pages)}
    return keys


def _tag_slugs(model: type[Page], pages) -> set[str]:
    tagged = model.tags.through.objects.filter(content_object__in=pages)
    return set(tagged.values_list("tag__slug", flat=True).distinct())


def _author_slugs(pages) -> set[str]:
    credited = BlogPostAuthor.objects.filter(page__in=pages)
    return set(credited.values_list("author__slug", flat=True).distinct())


def previously_published_keys(page: Page, revision_id: int | None) -> set[FeedKey]:
    """Feeds the page was in at its previous publish (a tag or author may have been removed)."""
    entry = (
        PageLogEntry.objects.filter(page_id=page.pk, action__in=PUBLISH_LOG_ACTIONS)
        .exclude(revision=None)
        .exclude(revision_id=revision_id)
        .select_related("revision")
        .order_by("-timestamp", "-pk")
        .first()
    )
    if entry is None:
        return set()
    previous = entry.revision.as_object()
    facts = syndication_of(previous)
    if facts is None or not facts.tag_and_author_feeds:
        return set()
    keys = {FeedKey("tag", tag.slug) for tag in previous.tags.all() if tag.slug}
    keys |= {
        FeedKey("author", item.author.slug)
        for item in previous.post_authors.all()
        if item.author_id
    }
    return keys


def enqueue_pings(topics: list[str]) -> None:
    """Queue one ping task per configured hub (call after commit).

    Never raises: a broker or hub problem must not fail, or slow down, a publish.
    """
    for hub in settings.WEBSUB_HUBS:
        try:
            ping_hub.delay(hub, topics)
        except Exception:  # noqa: BLE001 - logged; the publish has already committed
            logger.exception("could not queue the WebSub ping to %s", hub)


@shared_task(
    autoretry_for=(requests.RequestException, HubUnavailable),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    ignore_result=True,
)
def ping_hub(hub: str, topics: list[str]) -> int:
    """Send ``hub.mode=publish`` for each topic to ``hub``. Idempotent: a ping may repeat.

    Returns the number of topics the hub accepted. A 4xx other than 429 will not get
    better by retrying, so it is logged and skipped.
    """
    accepted = 0
    with requests.Session() as session:
        for topic in topics:
            response = session.post(
                hub, data={"hub.mode": "publish", "hub.url": topic}, timeout=HUB_TIMEOUT
            )
            if response.status_code >= 500 or response.status_code == 429:
                raise HubUnavailable(f"{hub} answered {response.status_code} for {topic}")
            if response.status_code >= 400:
                logger.warning("hub %s refused %s: %s", hub, topic, response.status_code)
                continue
            accepted += 1
    logger.info("pinged hub %s for %d topic(s)", hub, accepted)
    return accepted
