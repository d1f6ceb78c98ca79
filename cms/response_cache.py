"""A shared cache of public responses: reader pages and the pages API.

Why not Django's per-site cache middleware, or wagtail-cache built on it: they only
expire entries by age, so a publish shows late and an unpublished page lingers; they
cache whatever is not marked private and key entries on the Cookie header. Here:

Who may share an answer (safe by construction, whatever a view does)
    An answer is stored and served only for a request that carries nothing that could
    make it personal: a GET with no ``Authorization`` header and no cookie at all
    outside ``RESPONSE_CACHE_ALLOWED_COOKIES`` (so nobody signed in; empty: the site runs no
    analytics, and every cookie it sets changes answers — ``sessionid`` holds passed
    page passwords and a login, ``csrftoken`` is written into forms, ``messages`` is
    shown on the next page; a browser that once opened /admin/ carries the first two).
    So a reader who passed a page's password, an editor, a token holder: none of them
    is served from the cache or fills it, even where a view shows them more than it
    shows the public (Wagtail's pages API does, for a passed password). Their answers
    say ``Cache-Control: private`` and ``Vary: Cookie, Authorization``, so a CDN or
    Varnish in front keeps them out too; shared answers say ``public`` and vary alike.
    An answer that varies on Cookie is neither stored from, nor served to, a request
    with an allowed cookie.

What is stored
    Only a 200 its view marked public (``mark_public``: a live page without view
    restrictions, a pages-API read; Wagtail's v3 reads by ``RESPONSE_CACHE_PUBLIC_PATHS``),
    that sets no cookie, uses no CSRF token, says neither private, no-store nor
    no-cache, and varies on no request header beyond those above (and ``Accept``: the
    API has one renderer). Preview, the screener's form, search: never, by default.

Keys, and flooding
    The key is the host, the path and the query parameters sorted by name. A response is
    stored only when every parameter is one its view understands: a page class says
    which in ``cache_query_params`` (the blog index: page, tag, author; others none),
    the v2 pages view set in ``known_query_parameters`` (and Wagtail answers 400 to any
    other in a listing), v3 in its OpenAPI document; ``mark_public(response,
    query_params=...)`` lets any other view say so. ``_`` (jQuery's cache buster) is
    never understood. Anything else is answered by the view, uncached: whether it is
    ignored is the view's business, and ``/?junk=N`` must not cost an entry each.

Bounded memory
    Per process, at most ``RESPONSE_CACHE_LOCAL_BYTES`` of bodies (least recently used
    go). In the shared cache, every entry lives at most ``RESPONSE_CACHE_TIMEOUT``
    seconds, and the bytes stored in each window of that length are counted in the
    shared cache itself (``cache.incr``): past ``RESPONSE_CACHE_MAX_BYTES`` in a window,
    nothing new is stored until the next one (answers are still served, from the view).
    An entry lives into the next window at most, so Redis never holds more than twice
    the budget of responses, even where the cache shares a ``noeviction`` Redis with the
    broker (compose gives it its own, with ``allkeys-lru``). Entries
    replaced by a publish still count until their window ends: a bound, not a tally.
    One body is at most ``RESPONSE_CACHE_MAX_ENTRY_BYTES``.

Freshness
    Every entry belongs to one *generation*: a token replaced once, after commit, for
    each transaction that publishes, unpublishes, moves, deletes or changes privacy
    (``invalidate_on_commit``: called by the publishing pipeline, the one place changes
    enter: pages, authors, sites, reader settings, promotions and media), so one write
    invalidates list and detail responses alike without knowing their keys. Not
    before commit: a reader on another connection would store the old rows under the
    new token. Until the commit, the changing connection itself reads and fills the
    cache under a token of its own (the generation plus a per-change sequence, see
    :func:`generation`), so it sees its own change at once and nobody else sees it early.
    An entry is not served past the first ``expire_at`` among live content when it was
    built, so an expired page leaves at that instant even before the scheduler runs.

A broken cache (Redis down, database cache unreachable) only means no caching.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import (
    cc_delim_re,
    get_max_age,
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)
from django.utils.http import urlencode
from django.utils.module_loading import import_string

from cms import transactions
from cms.generation import Generation

logger = logging.getLogger(__name__)

_generation = Generation("responses:generation")
#: Counted on top of each body against the byte budget: the key, the headers, pickling.
ENTRY_OVERHEAD = 512
#: Headers a view or inner middleware set that belong to the stored response. The
#: outer middleware (CORS, CSP, security, session Vary) adds its own on every answer.
STORED_HEADERS = (
    "Content-Type",
    "Content-Language",
    "ETag",
    "Link",
    "X-Frame-Options",
    "Cache-Control",
    "Vary",
)
UNCACHEABLE_DIRECTIVES = {"private", "no-store", "no-cache"}
#: Request headers a stored answer may vary on: none of them reaches a stored answer
#: (Cookie and Authorization requests are not served; Origin is added outside; the API
#: has a single renderer whatever ``Accept`` says).
SHAREABLE_VARY = {"cookie", "authorization", "origin", "accept", "accept-encoding"}
#: Query parameters never part of a key, whatever a view says: a new value every time.
NEVER_KEYED = frozenset({"_"})
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
    varies_on_cookie: bool = False

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


def mark_public(response: HttpResponse, query_params: Iterable[str] | None = None) -> HttpResponse:
    """Say this response shows only public, live content, the same for every reader.

    ``query_params``: the parameters the view reads; a request with any other is not
    stored. Pages declare theirs in ``cache_query_params`` instead.
    """
    response.public_cacheable = True
    if query_params is not None:
        response.cache_query_params = frozenset(query_params)
    return response


def generation() -> str:
    """The token entries are stored and served under, on this connection, now.

    Inside a transaction that has changed public content, the shared token plus that
    change's own sequence: nothing stored before the change is served after it, and what
    this connection stores meanwhile is seen by no one else (and replaced on commit).
    """
    current = _generation.current()
    marker = transactions.pending_marker(_BATCH)
    if current and marker is not None:
        current = f"{current}:{marker}"
    return current


def invalidate_responses() -> None:
    """Drop every stored response now. Writers call :func:`invalidate_on_commit` instead."""
    _generation.replace()


class _Invalidation:
    """The one generation bump of a transaction, run at most once."""

    def __init__(self) -> None:
        self.done = False

    def merge(self, later: _Invalidation) -> None:
        """One bump covers them all."""

    def flush(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            invalidate_responses()
        except Exception:  # noqa: BLE001 - a cache outage must never fail a publish
            logger.warning("could not invalidate stored responses", exc_info=True)


_BATCH = "cms.response_cache"


def invalidate_on_commit() -> None:
    """Replace the generation once when the current transaction commits (at once outside one).

    Replacing it before commit would not help: a reader on another connection would
    store the old rows under the new token. This connection uses a token of its own
    meanwhile (:func:`generation`).
    """
    if transactions.pending_marker(_BATCH) is None:
        try:
            _generation.current()  # the base of this connection's own token (made once)
        except Exception:  # noqa: BLE001 - a cache outage must never fail a publish
            logger.warning("response cache unavailable", exc_info=True)
    with transactions.batch(_BATCH, _Invalidation):
        pass


def invalidate_pending() -> None:
    """Run the just-committed transaction's bump now, if it has not run yet.

    The publishing pipeline calls this first after commit, so our caches are invalid
    before the CDN is purged, whichever ``on_commit`` callback was registered first.
    """
    transactions.flush_now(_BATCH)


def next_expiry() -> float | None:
    """The first future ``expire_at`` of live content: no stored response outlives it."""
    now = timezone.now()
    instants = [
        apps.get_model(label)
        .objects.filter(live=True, expire_at__gt=now)
        .aggregate(first=Min("expire_at"))["first"]
        for label in ("wagtailcore.Page", "cms.Promo")
    ]
    instants = [instant.timestamp() for instant in instants if instant is not None]
    return min(instants) if instants else None


def _timeout() -> int:
    return settings.RESPONSE_CACHE_TIMEOUT


def _key(request: HttpRequest) -> str:
    """Host, path and the query parameters sorted by name (values keep their order)."""
    query = urlencode(
        [(name, value) for name, values in sorted(request.GET.lists()) for value in values]
    )
    url = f"{request.scheme}://{request.get_host()}{request.path}?{query}"
    return "responses:entry:" + hashlib.sha256(url.encode()).hexdigest()[:40]


def _personal(request: HttpRequest) -> bool:
    """Whether the request carries anything that may make its answer differ from others'."""
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    # The session and CSRF cookies change answers, whatever the allow-list says. With
    # no session cookie nobody is signed in (sessions are the only login), so
    # ``request.user`` is not looked at: that would load the session for nothing.
    allowed = set(settings.RESPONSE_CACHE_ALLOWED_COOKIES) - {
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
    }
    return any(name not in allowed for name in request.COOKIES)


def _varies_on_cookie(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether the answer depends on cookies: it says so, or the view read the session
    (SessionMiddleware, outside this one, adds ``Vary: Cookie`` only on the way out)."""
    session = getattr(request, "session", None)
    return "cookie" in _vary(response) or bool(getattr(session, "accessed", False))


def _directives(response: HttpResponse) -> set[str]:
    return {
        part.split("=")[0].strip().lower()
        for part in cc_delim_re.split(response.get("Cache-Control", ""))
        if part.strip()
    }


def _vary(response: HttpResponse) -> set[str]:
    return {
        part.strip().lower() for part in cc_delim_re.split(response.get("Vary", "")) if part.strip()
    }


def _mark_private(response: HttpResponse) -> None:
    """Keep a personal answer out of every shared cache, ours and any in front."""
    keep = _directives(response) & {"no-cache", "no-store", "max-age"}
    patch_cache_control(response, private=True, **({} if keep else {"no_cache": True}))
    patch_vary_headers(response, ("Cookie", "Authorization"))


def _mark_shared(response: HttpResponse) -> None:
    """Tell caches in front this answer is everyone's, and revalidated by its ETag."""
    if get_max_age(response) is None:
        patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
    else:
        patch_cache_control(response, public=True)
    patch_vary_headers(response, ("Cookie", "Authorization"))


def _marked_public(request: HttpRequest, response: HttpResponse) -> bool:
    """Marked by its view, or at a path whose anonymous answers are public by design
    (``RESPONSE_CACHE_PUBLIC_PATHS``: Wagtail's v3 page reads, mounted as it ships)."""
    if getattr(response, "public_cacheable", False):
        return True
    patterns = settings.RESPONSE_CACHE_PUBLIC_PATHS
    return any(re.fullmatch(pattern, request.path) for pattern in patterns)


@functools.cache
def _openapi_query_params(api_path: str) -> dict[str, frozenset[str]]:
    """Each GET path's query parameters, as the API's own OpenAPI document declares them."""
    schema = import_string(api_path).get_openapi_schema()
    return {
        path: frozenset(
            parameter["name"]
            for parameter in operations["get"].get("parameters", ())
            if parameter.get("in") == "query"
        )
        for path, operations in schema["paths"].items()
        if "get" in operations
    }


def _understood(request: HttpRequest, response: HttpResponse) -> frozenset[str]:
    """The query parameters the view that answered reads; only those may form a key."""
    declared = getattr(response, "cache_query_params", None)
    if declared is None:
        context = getattr(response, "context_data", None)
        page = context.get("page") if isinstance(context, dict) else None
        declared = getattr(page, "cache_query_params", None) if page is not None else None
    if declared is None:
        view = (getattr(response, "renderer_context", None) or {}).get("view")
        if view is not None:
            declared = set(getattr(view, "known_query_parameters", ()))
            if getattr(view, "action", None) == "listing_view":
                # Wagtail's listing answers 400 to a parameter that is neither an
                # operation nor a field filter: a 200 means it read every one.
                declared |= set(request.GET)
    if declared is None and settings.RESPONSE_CACHE_OPENAPI and request.resolver_match:
        route = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", request.resolver_match.route)
        declared = _openapi_query_params(settings.RESPONSE_CACHE_OPENAPI).get(route)
    return frozenset(declared or ()) - NEVER_KEYED


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code != 200 or not _marked_public(request, response):
        return False
    if response.streaming or response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    if len(response.content) > settings.RESPONSE_CACHE_MAX_ENTRY_BYTES:
        return False
    if _directives(response) & UNCACHEABLE_DIRECTIVES:
        return False
    if not _vary(response) <= SHAREABLE_VARY:
        return False
    if request.COOKIES and _varies_on_cookie(request, response):
        return False
    return not request.GET or set(request.GET) <= _understood(request, response)


def _lookup(key: str, current: str, request: HttpRequest) -> StoredResponse | None:
    with _local_lock:
        local = _local.get(key)
    if local is None or not local.current(current):
        local = None
        shared = cache.get(key)
        if isinstance(shared, StoredResponse) and shared.current(current):
            _remember(key, shared)
            local = shared
    if local is not None and local.varies_on_cookie and request.COOKIES:
        return None
    return local


def _remember(key: str, stored: StoredResponse) -> None:
    global _local_bytes
    limit = settings.RESPONSE_CACHE_LOCAL_BYTES
    with _local_lock:
        previous = _local.pop(key, None)
        if previous is not None:
            _local_bytes -= len(previous.content)
        _local[key] = stored
        _local_bytes += len(stored.content)
        while _local_bytes > limit and _local:
            _, oldest = _local.popitem(last=False)
            _local_bytes -= len(oldest.content)


def _within_budget(size: int) -> bool:
    """Count ``size`` against this window's shared byte budget; False once it is spent."""
    window = _timeout()
    counter = f"responses:bytes:{int(time.time() // window)}"
    try:
        used = cache.incr(counter, size)
    except ValueError:  # the window's first entry (the same number of queries either way)
        if cache.add(counter, size, timeout=2 * window):
            used = size
        else:  # another process created it meanwhile
            used = cache.incr(counter, size)
    # Backends without an atomic incr (the database cache) rewrite the key with their
    # default timeout; the counter must outlive the entries it counted.
    cache.touch(counter, timeout=2 * window)
    # None: Redis went away mid-request (django-redis ignores the error); store nothing.
    return used is not None and used <= settings.RESPONSE_CACHE_MAX_BYTES


def bytes_stored_this_window() -> int:
    """Bytes counted against the current window's budget (for /healthz and tests)."""
    return cache.get(f"responses:bytes:{int(time.time() // _timeout())}") or 0


def _store(key: str, current: str, request: HttpRequest, response: HttpResponse) -> bool:
    set_response_etag(response)
    headers = [(name, response[name]) for name in STORED_HEADERS if response.has_header(name)]
    content = bytes(response.content)
    size = len(content) + sum(len(name) + len(value) for name, value in headers) + ENTRY_OVERHEAD
    if not _within_budget(size):
        return False
    valid_until = next_expiry()
    stored = StoredResponse(
        generation=current,
        valid_until=valid_until,
        status=response.status_code,
        headers=headers,
        content=content,
        varies_on_cookie=_varies_on_cookie(request, response),
    )
    timeout = _timeout()
    if valid_until is not None:
        timeout = max(1, min(timeout, int(valid_until - time.time()) + 1))
    cache.set(key, stored, timeout=timeout)
    _remember(key, stored)
    return True


class PublicResponseCacheMiddleware:
    """Serve marked public responses from the shared cache. After SessionMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or request.path.startswith(SKIPPED_PREFIXES):
            return self.get_response(request)
        if _personal(request):
            # Neither served from the cache nor filling it, and kept out of caches in front.
            response = self.get_response(request)
            _mark_private(response)
            return response
        if request.method != "GET":
            return self.get_response(request)
        key = _key(request)
        try:
            current = generation()
            stored = _lookup(key, current, request) if current else None
        except Exception:  # noqa: BLE001 - a cache outage must not take the site down
            logger.warning("response cache unavailable; serving uncached", exc_info=True)
            return self.get_response(request)
        if not current:
            # No shared token (the cache is unreachable): a local copy could not be
            # invalidated by a publish elsewhere, so nothing is served or kept.
            return self.get_response(request)
        if stored is not None:
            response = stored.to_response()
            _mark_shared(response)
            return response
        response = self.get_response(request)
        try:
            kept = _storable(request, response) and _store(key, current, request, response)
        except Exception:  # noqa: BLE001 - not storing is always safe; a 500 is not
            logger.warning("could not store a response", exc_info=True)
            kept = False
        if kept:
            response["X-Cache"] = "miss"
            _mark_shared(response)
        return response
