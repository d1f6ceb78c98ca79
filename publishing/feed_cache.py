"""Rendered feeds in Django's cache, shared by every web and worker process.

A feed is rebuilt only when its content may have changed: every publish, unpublish,
move, deletion or privacy change replaces one *generation* token (after the
transaction commits), and a stored feed is served only in the generation it was
built in, so one write invalidates every feed at once without knowing which keys
exist. Expiry needs no event at all: a build records the first ``expire_at`` among
its pages and is not served past that instant.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .feeds import CONTENT_TYPES, FeedKey, build_feed, render_feed

logger = logging.getLogger(__name__)

GENERATION_KEY = "feeds:generation"
#: Longest a rendered feed stays cached without any change (it is rebuilt on change).
CACHE_TIMEOUT = 24 * 3600


@dataclass
class RenderedFeed:
    body: bytes
    content_type: str
    etag: str
    last_modified: int
    valid_until: float | None
    #: This document's own absolute URL (the WebSub topic on page 1).
    self_url: str
    #: The generation it was built in; any other generation means it may be stale.
    generation: str


def generation() -> str:
    """The current generation token (created on first use)."""
    value = cache.get(GENERATION_KEY)
    return value or _new_generation()


def _new_generation() -> str:
    cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    return cache.get(GENERATION_KEY) or ""


def invalidate_feeds() -> None:
    """Drop every cached feed. Call after commit, so no reader rebuilds from stale rows."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    logger.debug("feeds invalidated")


def _key(*parts: object) -> str:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"feeds:{digest}"


def get_feed(key: FeedKey, fmt: str, page: int, request: HttpRequest) -> RenderedFeed:
    """The feed from the cache, built and stored when missing, stale or past its validity.

    One cache round trip on a hit: the generation token and the stored feed are read
    together, and the feed is current only if it was built in this generation.
    """
    hubs = ",".join(settings.WEBSUB_HUBS)
    cache_key = _key(hubs, key.cache_id(), fmt, page)
    found = cache.get_many([GENERATION_KEY, cache_key])
    current = found.get(GENERATION_KEY) or _new_generation()
    cached: RenderedFeed | None = found.get(cache_key)
    if (
        cached is not None
        and cached.generation == current
        and (cached.valid_until is None or cached.valid_until > time.time())
    ):
        return cached

    data = build_feed(key, page)
    body = render_feed(data, fmt, request)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    rendered = RenderedFeed(
        body=body,
        content_type=CONTENT_TYPES[fmt],
        etag=etag,
        last_modified=_last_modified(key, fmt, page, etag, data.updated.timestamp()),
        valid_until=data.valid_until.timestamp() if data.valid_until else None,
        self_url=data.url(fmt, page),
        generation=current,
    )
    timeout = CACHE_TIMEOUT
    if rendered.valid_until is not None:
        timeout = max(1, min(timeout, math.ceil(rendered.valid_until - time.time())))
    cache.set(cache_key, rendered, timeout=timeout)
    return rendered


def _last_modified(key: FeedKey, fmt: str, page: int, etag: str, newest: float) -> int:
    """When this feed's content last changed, stable while its body (ETag) stays the same.

    The newest item's date alone misses removals (unpublishing an older post changes
    the feed but no date in it), so a new body seen after an earlier one is stamped
    with the time it was first built.
    """
    record_key = _key("last-modified", key.cache_id(), fmt, page)
    record = cache.get(record_key)
    if record and record[0] == etag:
        return record[1]
    stamp = int(newest)
    if record:
        stamp = max(stamp, int(time.time()), record[1] + 1)
    cache.set(record_key, (etag, stamp), timeout=None)
    return stamp
