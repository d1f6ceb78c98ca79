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
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from cms.generation import Generation

from .feeds import CONTENT_TYPES, FeedKey, build_feed, render_feed

logger = logging.getLogger(__name__)

_generation = Generation("feeds:generation")
#: Longest a rendered feed stays cached without any change (it is rebuilt on change).
CACHE_TIMEOUT = 24 * 3600
#: Feeds each process keeps in memory (checked against the shared generation on use).
LOCAL_ENTRIES = 64

_local: OrderedDict[str, RenderedFeed] = OrderedDict()
_local_lock = threading.Lock()


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
    return _generation.current()


def invalidate_feeds() -> None:
    """Drop every cached feed. Call after commit, so no reader rebuilds from stale rows."""
    _generation.replace()
    logger.debug("feeds invalidated")


def _key(*parts: object) -> str:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"feeds:{digest}"


def _current(feed: RenderedFeed | None, current: str) -> bool:
    # An empty token means the shared cache is unreachable: nothing can be trusted.
    return (
        bool(current)
        and feed is not None
        and feed.generation == current
        and (feed.valid_until is None or feed.valid_until > time.time())
    )


def get_feed(key: FeedKey, fmt: str, page: int, request: HttpRequest) -> RenderedFeed:
    """The feed from the cache, built and stored when missing, stale or past its validity.

    A hit costs one small cache read (the generation token): each process also keeps
    the feeds it served last, and those are current only if built in this generation.
    """
    hubs = ",".join(settings.WEBSUB_HUBS)
    cache_key = _key(hubs, key.cache_id(), fmt, page)
    current = generation()
    with _local_lock:
        local = _local.get(cache_key)
    if _current(local, current):
        return local
    shared: RenderedFeed | None = cache.get(cache_key)
    if _current(shared, current):
        _remember(cache_key, shared)
        return shared

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
    _remember(cache_key, rendered)
    return rendered


def _remember(cache_key: str, feed: RenderedFeed) -> None:
    with _local_lock:
        _local[cache_key] = feed
        _local.move_to_end(cache_key)
        while len(_local) > LOCAL_ENTRIES:
            _local.popitem(last=False)


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
