"""A Redis outage makes the site slower, not down (django-redis, ``IGNORE_EXCEPTIONS``).

The cache points at a port nothing listens on, on either stack: reads miss, writes are
dropped, counters report "cannot count", and the outage is logged as one line a minute
per process rather than a traceback per cache call. The pages, the API, page passwords
and /healthz under an outage are tested with their features (test_response_cache.py,
test_page_passwords.py).
"""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache

from cms import response_cache
from cms.log_filters import CacheOutageFilter
from cms.settings.base import redis_cache


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {"default": redis_cache("redis://127.0.0.1:1/0")}  # nothing listens there


@pytest.fixture
def outage_filter(monkeypatch) -> CacheOutageFilter:
    """The filter LOGGING put on django-redis's logger, with its minute not yet started.

    A test that applies LOGGING again in this process (dictConfig adds filters, it never
    removes them) leaves one copy per application; this test watches one of them.
    """
    logger = logging.getLogger("django_redis.cache")
    found = [f for f in logger.filters if isinstance(f, CacheOutageFilter)]
    assert found, "LOGGING puts a CacheOutageFilter on django_redis.cache"
    monkeypatch.setattr(logger, "filters", [found[0]])
    monkeypatch.setattr(found[0], "_last", None)
    return found[0]


def test_reads_miss_and_writes_are_dropped(redis_down):
    assert cache.get("key", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
    assert not cache.has_key("key")
    assert not cache.add("key", 1)
    cache.set("key", 1)
    cache.set_many({"a": 1})
    cache.delete("key")
    cache.touch("key")
    assert cache.incr("counter", 5) is None  # "cannot count": callers fail open
    assert cache.get("key") is None


def test_the_response_budget_stores_nothing_it_cannot_count(redis_down):
    """Redis gone between the generation read and the store: no entry, and no 500."""
    assert response_cache._within_budget(100) is False


def test_an_outage_is_one_line_a_minute_per_process(redis_down, outage_filter, caplog):
    caplog.set_level(logging.WARNING, logger="django_redis.cache")
    for number in range(20):
        cache.get(f"key:{number}")
        cache.set(f"key:{number}", number)
    lines = [r for r in caplog.records if r.name == "django_redis.cache"]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    (line,) = lines
    assert line.levelno == logging.WARNING and line.exc_info is None
    assert line.getMessage().startswith("cache unavailable (Redis ConnectionError: ")
    assert line.getMessage().endswith("; carrying on without it")

    # 59 s later: still the same minute; 61 s later: one more line.
    outage_filter._last -= 59
    cache.get("key")
    assert len([r for r in caplog.records if r.name == "django_redis.cache"]) == 1
    outage_filter._last -= 2
    cache.get("key")
    cache.get("key")
    assert len([r for r in caplog.records if r.name == "django_redis.cache"]) == 2
