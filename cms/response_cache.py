"""A shared cache of public responses: reader pages and the pages API.

Why not Django's per-site cache middleware, or wagtail-cache built on it: they only
expire entries by age, so a publish shows late and an unpublished page lingers; they
cache whatever is not marked private and key entries on the Cookie header. Here:

* A response is stored only when its view marked it public (``mark_public``): a live
  page without view restrictions, a pages-API read. Everything else — preview, the
  screener's form, search, anything private — is never stored, by default.
* Only anonymous GETs without an Authorization header are served or stored, and
  never a response that sets a cookie, uses a CSRF token or says private/no-store.
* Every entry belongs to one *generation*: a token replaced after commit on each
  publish, unpublish, move, delete or privacy change (``cms.response_cache_signals``),
  so one write invalidates list and detail responses alike without knowing their keys.
* An entry is not served past the first ``expire_at`` among live content when it was
  built, so an expired page leaves at that instant even before the scheduler runs.
* A broken cache (Redis down, database cache unreachable) only means no caching.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import cc_delim_re, set_response_etag

from cms.generation import Generation

logger = logging.getLogger(__name__)

_generation = Generation("responses:generation")
#: Longest an entry stays without any change; a publish replaces it much sooner.
CACHE_TIMEOUT = 3600
#: Response bodies each process keeps in memory, checked against the shared generation
#: on use; the least recently used go first.
LOCAL_BYTES = 32 * 1024 * 1024
#: Larger bodies are not worth a cache slot.
MAX_BODY_BYTES = 512 * 1024
#: Headers a view or inner middleware set that belong to the stored response. The
#: outer middleware (CORS, CSP, security, session Vary) adds its own on every answer.
STORED_HEADERS = ("Content-Type", "Content-Language", "ETag", "Link", "X-Frame-Options")
UNCACHEABLE_DIRECTIVES = {"private", "no-store", "no-cache"}
#: Paths never marked public, or cached their own way (feeds): not even looked up.
SKIPPED_PREFIXES = (
    "/feeds/",
    "/admin/",
    "/django-admin/",
    "/healthz",
    "/static/",
    "/media/",
    "/documents/",
    "/search/",
    "/api/v2/page_preview/",
    "/_util/",
)

_local: OrderedDict[str, StoredResponse] = OrderedDict()
_local_bytes = 0
_local_lock = threading.Lock()


@dataclass
class StoredResponse:
    generation: str
    valid_until: float | None
    status: int
    headers: list[tuple[str, str]]
    content: bytes

    def current(self, generation: str) -> bool:
        return self.generation == generation and (
            self.valid_until is None or self.valid_until > time.time()
        )

    def to_response(self) -> HttpResponse:
        response = HttpResponse(self.content, status=self.status)
        for name, value in self.headers:
            response[name] = value
        response["X-Cache"] = "hit"
        return response


def mark_public(response: HttpResponse) -> HttpResponse:
    """Say this response shows only public, live content, the same for every reader."""
    response.public_cacheable = True
    return response


def generation() -> str:
    return _generation.current()


def invalidate_responses() -> None:
    """Drop every stored response (see ``cms.response_cache_signals`` for when)."""
    _generation.replace()


def next_expiry() -> float | None:
    """The first future ``expire_at`` of live content: no stored response outlives it."""
    from wagtail.models import Page

    from cms.models import Promo

    now = timezone.now()
    instants = [
        model.objects.filter(live=True, expire_at__gt=now).aggregate(first=Min("expire_at"))[
            "first"
        ]
        for model in (Page, Promo)
    ]
    instants = [instant.timestamp() for instant in instants if instant is not None]
    return min(instants) if instants else None


def _key(request: HttpRequest) -> str:
    url = request.build_absolute_uri()
    return "responses:" + hashlib.sha256(url.encode()).hexdigest()[:40]


def _eligible(request: HttpRequest) -> bool:
    if request.method != "GET" or "HTTP_AUTHORIZATION" in request.META:
        return False
    if request.path.startswith(SKIPPED_PREFIXES):
        return False
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated)


def _marked_public(request: HttpRequest, response: HttpResponse) -> bool:
    """Marked by its view, or at a path whose anonymous answers are public by design
    (``RESPONSE_CACHE_PUBLIC_PATHS``: Wagtail's v3 page reads, mounted as it ships)."""
    if getattr(response, "public_cacheable", False):
        return True
    patterns = getattr(settings, "RESPONSE_CACHE_PUBLIC_PATHS", ())
    return any(re.fullmatch(pattern, request.path) for pattern in patterns)


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code != 200 or not _marked_public(request, response):
        return False
    if response.streaming or response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    if len(response.content) > MAX_BODY_BYTES:
        return False
    directives = {
        part.split("=")[0].strip().lower()
        for part in cc_delim_re.split(response.get("Cache-Control", ""))
    }
    return not (directives & UNCACHEABLE_DIRECTIVES) and response.get("Vary", "") != "*"


def _lookup(key: str, current: str) -> StoredResponse | None:
    with _local_lock:
        local = _local.get(key)
    if local is not None and local.current(current):
        return local
    shared = cache.get(key)
    if isinstance(shared, StoredResponse) and shared.current(current):
        _remember(key, shared)
        return shared
    return None


def _remember(key: str, stored: StoredResponse) -> None:
    global _local_bytes
    with _local_lock:
        previous = _local.pop(key, None)
        if previous is not None:
            _local_bytes -= len(previous.content)
        _local[key] = stored
        _local_bytes += len(stored.content)
        while _local_bytes > LOCAL_BYTES and _local:
            _, oldest = _local.popitem(last=False)
            _local_bytes -= len(oldest.content)


def _store(key: str, current: str, response: HttpResponse) -> None:
    set_response_etag(response)
    valid_until = next_expiry()
    stored = StoredResponse(
        generation=current,
        valid_until=valid_until,
        status=response.status_code,
        headers=[(name, response[name]) for name in STORED_HEADERS if response.has_header(name)],
        content=bytes(response.content),
    )
    timeout = CACHE_TIMEOUT
    if valid_until is not None:
        timeout = max(1, min(timeout, int(valid_until - time.time()) + 1))
    cache.set(key, stored, timeout=timeout)
    _remember(key, stored)


class PublicResponseCacheMiddleware:
    """Serve marked public responses from the shared cache. After AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _eligible(request):
            return self.get_response(request)
        key = _key(request)
        try:
            current = generation()
            stored = _lookup(key, current) if current else None
        except Exception:  # noqa: BLE001 - a cache outage must not take the site down
            logger.warning("response cache unavailable; serving uncached", exc_info=True)
            return self.get_response(request)
        if not current:
            # No shared token (the cache is unreachable): a local copy could not be
            # invalidated by a publish elsewhere, so nothing is served or kept.
            return self.get_response(request)
        if stored is not None:
            return stored.to_response()
        response = self.get_response(request)
        if _storable(request, response):
            try:
                _store(key, current, response)
            except Exception:  # noqa: BLE001
                logger.warning("could not store a response", exc_info=True)
            response["X-Cache"] = "miss"
        return response
