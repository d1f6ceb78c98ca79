"""A limit on wrong page passwords, per client and per restricted page, as axes does for logins.

Wagtail's password form posts to ``authenticate_with_password`` and has no hook around it,
so ``cms/urls.py`` routes that same path here first. This view counts only wrong
attempts and otherwise hands the request to Wagtail's view unchanged.

Two counters live in the shared cache, each expiring a cool-off after its last wrong
attempt: one per client on a restriction (a keyed hash of the address, never the address
itself) and one per restriction for everyone together, so a guesser with many addresses
is stopped too. The restriction, not the page id in the URL, is what holds the password,
so it is the key: changing the page id in the URL does not buy more guesses.

Each attempt is counted *before* Wagtail checks the password and given back if it was
right, so a burst of parallel guesses cannot get past the limit while the first ones are
still being checked. The lock records when it ends, so the cool-off follows this
machine's clock (and freezegun in tests) even when the cache's own expiry lags.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from wagtail import views as wagtail_views

from cms.clients import client_key

logger = logging.getLogger(__name__)

KEY_PREFIX = "page-password"
# A missing key (ValueError from ``incr``) or an unreachable Redis: the counter is lost.
CACHE_ERRORS = (ValueError, redis.RedisError)


@dataclass(frozen=True)
class Counter:
    """One failure counter and its limit; ``label`` names it in the lock-out log line."""

    key: str
    limit: int
    label: str
    # As AXES_RESET_ON_SUCCESS: the right password clears the client's own count only;
    # the page's count is shared, so one visitor who knows the password cannot reset it.
    reset_on_success: bool = False

    @property
    def lock_key(self) -> str:
        return f"{self.key}:locked-until"


def cooloff_seconds() -> int:
    return max(1, int(settings.PAGE_PASSWORD_COOLOFF))


def counters_for(request: HttpRequest, restriction_id: int) -> list[Counter]:
    """The client's counter on this restriction, and the restriction's own."""
    client = client_key(request)
    return [
        Counter(
            f"{KEY_PREFIX}:client:{client}:{restriction_id}",
            int(settings.PAGE_PASSWORD_FAILURE_LIMIT),
            f"client {client[:8]} on restriction {restriction_id}",
            reset_on_success=True,
        ),
        Counter(
            f"{KEY_PREFIX}:restriction:{restriction_id}",
            int(settings.PAGE_PASSWORD_PAGE_FAILURE_LIMIT),
            f"restriction {restriction_id} (all clients)",
        ),
    ]


def locked_for(counters: list[Counter], now: float) -> int | None:
    """Seconds until every lock on these counters ends, or ``None`` if none holds."""
    ends = cache.get_many([counter.lock_key for counter in counters])
    waits = []
    for counter in counters:
        until = ends.get(counter.lock_key)
        if until is None:
            continue
        if until <= now:
            # Over by our clock: start afresh even if the cache has not expired it yet.
            cache.delete_many([counter.lock_key, counter.key])
            continue
        waits.append(math.ceil(until - now))
    return max(waits) if waits else None


def _add(counter: Counter, delta: int) -> int | None:
    """Add to a counter and restart its cool-off; ``None`` if the cache cannot count.

    Only a positive delta creates the counter: giving back to one that has just expired
    must not leave it below zero.
    """
    if delta > 0:
        cache.add(counter.key, 0, timeout=cooloff_seconds())
    try:
        value = cache.incr(counter.key, delta)
    except CACHE_ERRORS:
        return None
    cache.touch(counter.key, timeout=cooloff_seconds())
    return value


def reserve(counters: list[Counter]) -> list[tuple[Counter, int]] | None:
    """Count this attempt on every counter; ``None`` (nothing counted) if one is over."""
    taken: list[tuple[Counter, int]] = []
    for counter in counters:
        value = _add(counter, 1)
        if value is None:
            # The cache is unreachable: fail open, as the rest of the site does.
            continue
        taken.append((counter, value))
        if value > counter.limit:
            release(taken)
            return None
    return taken


def release(taken: list[tuple[Counter, int]]) -> None:
    """Give a reserved attempt back: it was right, or it never reached the password check."""
    for counter, _value in taken:
        _add(counter, -1)


def lock_if_reached(taken: list[tuple[Counter, int]], now: float) -> None:
    """After a wrong password: lock each counter this attempt brought to its limit."""
    for counter, value in taken:
        if value == counter.limit:
            cache.set(counter.lock_key, now + cooloff_seconds(), timeout=cooloff_seconds())
            logger.warning(
                "page password lock-out: %s after %d wrong attempts, for %ds",
                counter.label,
                value,
                cooloff_seconds(),
            )


def locked_response(request: HttpRequest, retry_after: int) -> HttpResponse:
    """429 with a page a person can read and a ``Retry-After`` header; never cached."""
    response = TemplateResponse(
        request,
        "cms/page_password_locked.html",
        {"minutes": max(1, math.ceil(retry_after / 60))},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    add_never_cache_headers(response)
    return response


def authenticate_with_password(
    request: HttpRequest, page_view_restriction_id: int, page_id: int
) -> HttpResponse:
    """Wagtail's password view behind a lock-out; a GET shows its form as before."""
    if request.method != "POST":
        return wagtail_views.authenticate_with_password(request, page_view_restriction_id, page_id)
    counters = counters_for(request, page_view_restriction_id)
    now = time.time()
    retry_after = locked_for(counters, now)
    if retry_after is not None:
        return locked_response(request, retry_after)
    taken = reserve(counters)
    if taken is None:
        # Over the limit in a race with another attempt that is about to set the lock.
        return locked_response(request, cooloff_seconds())
    wrong = False
    try:
        response = wagtail_views.authenticate_with_password(
            request, page_view_restriction_id, page_id
        )
        # Wagtail shows the form again (200) only when the password was wrong or missing.
        wrong = response.status_code == 200
    finally:
        if wrong:
            lock_if_reached(taken, now)
        else:
            # A redirect (right password), or Http404 (no such restriction or page), or
            # an error: not a wrong guess, so the reserved attempt is given back.
            release(taken)
    if response.status_code in {302, 303}:
        cache.delete_many([counter.key for counter in counters if counter.reset_on_success])
    return response
