"""The one rule for what the public may see. Every output that leaves the system uses it.

A page is public when it is live, not past its ``expire_at`` (even in the moment before
the scheduler unpublishes it, or while the workers are down) and has no view restriction
on it or an ancestor. The rule ignores who asks: a visitor who passed a page's password,
or an editor signed in, gets their own view of that page from Wagtail's page serving,
but every shared output (listings, search, sitemap, both APIs, feeds, WebSub, webhooks,
JSON-LD, promotions, the screener) and every shared cache shows the same to everyone.

Images and documents are public when their collection, and each of its ancestors, has
no view restriction. Wagtail's collection privacy covers documents only; here it covers
images too, in rich text, StreamField blocks, feeds, webhook payloads and file downloads.

``public_pages()`` is the queryset method and ``is_public()`` the matching predicate: a
page is in one exactly when the other says so. Within a request (see ``request_memo``)
the few lookups the rule needs are made once.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from wagtail.models import Collection, CollectionViewRestriction, Page, PageViewRestriction
from wagtail.query import PageQuerySet

T = TypeVar("T")

_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("visibility", default=None)


def _memoised(key: str, compute: Callable[[], T]) -> T:
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


@contextmanager
def request_memo() -> Iterator[None]:
    """Look up restrictions and overdue pages once inside this block (one request, one feed
    build), not once per page or image. Outside such a block every call looks afresh."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def forget(**kwargs) -> None:
    """Drop what the current block looked up: a restriction, page or expiry just changed.

    Connected to the saves and deletes that change the answers (``CmsConfig.ready``)."""
    memo = _memo.get()
    if memo is not None:
        memo.clear()


class VisibilityMemoMiddleware:
    """One ``request_memo`` per read (GET/HEAD); writes always look afresh."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        with request_memo():
            return self.get_response(request)


# --- pages ----------------------------------------------------------------------------


def overdue_page_ids() -> list[int]:
    """Live pages whose ``expire_at`` has passed: the scheduler has not unpublished them yet.

    An id list rather than an ``expire_at`` filter, because Wagtail search accepts
    filters on indexed fields only; the list is tiny (it reads the partial index on
    ``expire_at``, cms migration 0004).
    """
    return _memoised(
        "overdue",
        lambda: list(
            Page.objects.filter(live=True, expire_at__lte=timezone.now()).values_list(
                "pk", flat=True
            )
        ),
    )


def public_pages(queryset: PageQuerySet | None = None) -> PageQuerySet:
    """The pages the public may see, out of ``queryset`` (all pages when omitted)."""
    queryset = Page.objects.all() if queryset is None else queryset
    return queryset.live().public().exclude(depth=1).exclude(pk__in=overdue_page_ids())


def is_expired(page: Page) -> bool:
    """Past its ``expire_at``, whether or not the scheduler has run yet."""
    expire_at = getattr(page, "expire_at", None)
    return bool(page.expired) or (expire_at is not None and expire_at <= timezone.now())


def _restricted_page_paths() -> list[str]:
    return _memoised(
        "page_paths",
        lambda: list(PageViewRestriction.objects.values_list("page__path", flat=True)),
    )


def is_restricted(page: Page) -> bool:
    """A view restriction (login, password, groups) on the page or one of its ancestors."""
    return any(page.path.startswith(path) for path in _restricted_page_paths())


def is_public(page: Page | None) -> bool:
    """The predicate matching ``public_pages()`` for one page already in memory."""
    return (
        page is not None
        and bool(page.pk)
        and page.live
        and page.depth > 1
        and not is_expired(page)
        and not is_restricted(page)
    )


def public_parent(page: Page) -> Page | None:
    """The parent of ``page`` when the public may see it: a draft or private section's
    title must not show in a live child's breadcrumb, feed titles or API metadata."""
    parent = page.get_parent()
    return parent.specific if is_public(parent) else None


# --- images and documents ------------------------------------------------------------


def restricted_collection_ids() -> frozenset[int]:
    """Collections under a view restriction, directly or through an ancestor."""

    def compute() -> frozenset[int]:
        paths = list(
            Collection.objects.filter(
                pk__in=CollectionViewRestriction.objects.values("collection_id")
            ).values_list("path", flat=True)
        )
        if not paths:
            return frozenset()
        under = Q()
        for path in paths:
            under |= Q(path__startswith=path)
        return frozenset(Collection.objects.filter(under).values_list("pk", flat=True))

    return _memoised("collections", compute)


def public_media(queryset: QuerySet) -> QuerySet:
    """Images or documents the public may see: none from a restricted collection."""
    return queryset.exclude(collection_id__in=restricted_collection_ids())


def is_public_media(obj: Model | None) -> bool:
    """The predicate matching ``public_media()`` for one image or document (or a rendition,
    through its image)."""
    if obj is None:
        return False
    image = getattr(obj, "image", None)
    if image is not None and hasattr(obj, "filter_spec"):
        obj = image
    return getattr(obj, "collection_id", None) not in restricted_collection_ids()


# --- snippets shown on pages -----------------------------------------------------------


def public_snippets(queryset: QuerySet) -> QuerySet:
    """Scheduled snippets (promotions) that are live and not past their ``expire_at``."""
    return queryset.filter(live=True).exclude(expire_at__lte=timezone.now())


def is_public_snippet(obj: Model) -> bool:
    expire_at = getattr(obj, "expire_at", None)
    return bool(getattr(obj, "live", True)) and not (
        expire_at is not None and expire_at <= timezone.now()
    )
