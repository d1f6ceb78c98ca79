"""What one transaction changed, collected while it runs and acted on once it commits.

:func:`collecting` hands the signal handlers the transaction's :class:`Change`; when
the transaction commits, :meth:`Change.flush` runs ``after_commit`` (the three steps of
:mod:`publishing.pipeline.steps`), once. A rolled-back transaction runs nothing: its
outbox rows are gone with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from types import SimpleNamespace
from urllib.parse import urlsplit

from wagtail.models import Page

from cms import transactions
from cms.response_cache import invalidate_on_commit
from publishing.syndication.feeds import FeedKey

_BATCH = "publishing.pipeline"


@dataclass
class Change:
    """Everything a transaction changed that someone outside must learn about."""

    #: What runs once the transaction commits (``steps.run``).
    after_commit: Callable[[Change], None]

    #: Absolute URLs whose cached copies (CDN) are stale now.
    urls: set[str] = field(default_factory=set)
    #: Feeds whose content changed: their cache goes, their WebSub topics are pinged.
    feed_keys: set[FeedKey] = field(default_factory=set)
    #: Every cached feed is stale (a site's hostname, a privacy change without a page).
    all_feeds: bool = False
    #: Webhook outbox rows written in this transaction, held until the CDN is purged.
    delivery_ids: list[int] = field(default_factory=list)
    #: Pages whose URLs (theirs and their ancestors') are read by the steps after commit,
    #: once our caches are invalidated, for all of a transaction's pages at once: a burst's
    #: pages under one parent read it once, and the publishing transaction stays short.
    page_ids: set[int] = field(default_factory=set)

    def add_page(self, page: Page, old_url_path: str | None = None) -> None:
        """The page's own URLs, its ancestors' (listings, breadcrumbs) and its API answers,
        read after commit (:meth:`read_page_urls`: the page is where the commit left it)."""
        self.page_ids.add(page.pk)
        if old_url_path is not None:
            self.urls.update(moved_urls(page, old_url_path))

    def add_page_now(self, page: Page) -> None:
        """As :meth:`add_page`, read now: for a page whose rows are about to go."""
        self.urls |= urls_of_pages([page])

    def add_feeds(self, keys: set[FeedKey]) -> None:
        self.feed_keys |= keys

    def __bool__(self) -> bool:
        return bool(
            self.urls or self.page_ids or self.feed_keys or self.all_feeds or self.delivery_ids
        )

    def merge(self, later: Change) -> None:
        """Fold a later part of the same transaction into this one."""
        self.urls |= later.urls
        self.page_ids |= later.page_ids
        self.feed_keys |= later.feed_keys
        self.all_feeds = self.all_feeds or later.all_feeds
        self.delivery_ids += later.delivery_ids

    def read_page_urls(self) -> None:
        """Turn the pages added into URLs (after commit, once our caches are invalidated).

        A page deleted later in the same transaction is gone; its delete handler read
        its URLs before the rows went (``add_page_now``).
        """
        if self.page_ids:
            self.urls |= urls_of_pages(Page.objects.filter(pk__in=self.page_ids))
            self.page_ids = set()

    def flush(self) -> None:
        self.after_commit(self)


def urls_of_pages(pages: Iterable[Page]) -> set[str]:
    """The URLs of ``pages`` and of their ancestors below the root, each page read once."""
    pages = list(pages)
    ancestor_paths = {
        page.path[:end]
        for page in pages
        for end in range(2 * Page.steplen, len(page.path), Page.steplen)
    } - {page.path for page in pages}
    every = pages + list(Page.objects.filter(path__in=ancestor_paths))
    site_roots = SimpleNamespace()  # Wagtail keeps the site root paths on it: read once
    urls: set[str] = set()
    for page in every:
        if page.depth > 1:
            urls |= page_urls(page, site_roots)
    return urls


def page_urls(page: Page, site_roots: object | None = None) -> set[str]:
    """Where a CDN may hold ``page``: its routable URLs and its API v2/v3 detail answers.

    ``site_roots``: any object Wagtail may keep the site root paths on between calls.
    """
    full_url = page.get_full_url(site_roots)
    if not full_url:
        return set()
    urls = {full_url + path.lstrip("/") for path in _cached_paths(page)}
    root = origin(full_url)
    urls |= {
        f"{root}/api/v2/pages/{page.pk}/",
        f"{root}/api/v3/pages/{page.pk}/",
        f"{root}/api/v2/pages/",
        f"{root}/api/v3/pages/",
        f"{root}/api/changes/",
        f"{root}/sitemap.xml",
    }
    return urls


def moved_urls(page: Page, old_url_path: str) -> set[str]:
    """A moved page's former address (the site root's part of ``url_path`` is not in URLs)."""
    full_url = page.full_url
    if not full_url:
        return set()
    path = urlsplit(full_url).path
    prefix = len(page.url_path) - len(path)
    if prefix < 0 or not page.url_path.endswith(path):
        return set()
    return {origin(full_url) + old_url_path[prefix:]}


def _cached_paths(page: Page) -> list[str]:
    return list(page.specific_deferred.get_cached_paths() or ["/"])


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL: where a CDN keys what it holds."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@contextmanager
def collecting(after_commit: Callable[[Change], None]) -> Iterator[Change]:
    """The current transaction's :class:`Change` (flushed on commit, or at once outside one).

    Also tells the response cache that this transaction changes public content, so its
    own connection stops reading it until the commit.
    """
    invalidate_on_commit()
    with transactions.batch(_BATCH, partial(Change, after_commit)) as change:
        yield change
