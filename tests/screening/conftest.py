"""Screener fixtures: the seed screener, and one graded as clinical guidance suggests."""

import re

import pytest

from screening.blocks import CARE_TEAM, DOCTOR, EMERGENCY


def publish_items(screener, urgencies: list[str], texts: list[str] | None = None):
    """Publish a revision that sets each item's urgency (and text), keeping the item ids."""
    raw = list(screener.items.raw_data)
    for index, urgency in enumerate(urgencies):
        raw[index]["value"]["urgency"] = urgency
        if texts:
            raw[index]["value"]["text"] = texts[index]
    screener.items = raw
    screener.save_revision().publish()
    screener.refresh_from_db()
    return screener


@pytest.fixture
def screener(seed):
    from screening.models import ScreenerPage

    return ScreenerPage.objects.get()


@pytest.fixture
def graded_screener(screener):
    """Leg symptoms: doctor; bladder/bowel: emergency; fever: doctor; cancer history: care team."""
    return publish_items(screener, [DOCTOR, EMERGENCY, DOCTOR, CARE_TEAM])


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


def cache_entries() -> dict[str, str]:
    """Every key in this test's cache with its raw stored value, as text (table or Redis db)."""
    from django.core.cache import caches
    from django.db import connection

    cache = caches["default"]
    backend = type(cache).__name__
    if backend == "DatabaseCache":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT cache_key, value FROM {cache._table}")  # noqa: S608
            return {key: str(value) for key, value in cursor.fetchall()}
    if backend in ("RedisCache", "FailOpenRedisCache"):
        client = cache._cache.get_client()
        return {key.decode(): repr(client.get(key)) for key in client.scan_iter(count=1000)}
    pytest.fail(f"unexpected cache backend {backend}")
