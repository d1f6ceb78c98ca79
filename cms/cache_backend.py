"""Django's Redis cache, failing open: a Redis outage makes the site slower, not down.

Wagtail itself keeps site root paths in the cache, so with Django's plain RedisCache a
Redis restart answers every reader with a 500. Here a connection or timeout error
reads as a miss and a write is dropped (logged at most once a minute per process);
/healthz still reports the cache as unhealthy, because its probe reads back what it
wrote. Code that keeps local copies keyed by a generation token read from the cache
(``cms.response_cache``, the feed cache) treats an empty token as "no caching".
"""

from __future__ import annotations

import logging
import time
from functools import wraps

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)
FAILURES = (redis.ConnectionError, redis.TimeoutError)
LOG_EVERY_SECONDS = 60
_last_logged = 0.0

# What each client method answers when Redis is unreachable.
FALLBACKS = {
    "add": False,
    "get": None,
    "set": None,
    "touch": False,
    "delete": False,
    "get_many": {},
    "has_key": False,
    "set_many": None,
    "delete_many": None,
    "clear": False,
}


def _fail_open(name: str, method):
    @wraps(method)
    def wrapper(self, *args, **kwargs):
        global _last_logged
        try:
            return method(self, *args, **kwargs)
        except FAILURES as exc:
            if time.monotonic() - _last_logged > LOG_EVERY_SECONDS:
                _last_logged = time.monotonic()
                logger.warning("cache unavailable (%s); carrying on without it", exc)
            if name == "get":
                return args[1] if len(args) > 1 else kwargs.get("default")
            return FALLBACKS[name]

    return wrapper


class FailOpenRedisCacheClient(RedisCacheClient):
    pass


for _name in FALLBACKS:
    setattr(
        FailOpenRedisCacheClient,
        _name,
        _fail_open(_name, getattr(RedisCacheClient, _name)),
    )


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient
