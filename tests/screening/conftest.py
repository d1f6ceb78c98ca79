"""Screener fixtures: the seed screener, and one graded as clinical guidance suggests."""

import re

import pytest

from screening.blocks import CARE_TEAM, DOCTOR, EMERGENCY


def publish_items(screener, urgencies: list[str], texts: list[str] | None = None):
    """Publish a revision that sets each item's urgency (and text), keeping the item ids.

    Like an editor must, it updates the combination rules that name a re-worded item.
    """
    raw = list(screener.items.raw_data)
    renamed = {}
    for index, urgency in enumerate(urgencies):
        raw[index]["value"]["urgency"] = urgency
        if texts:
            renamed[raw[index]["value"]["text"]] = texts[index]
            raw[index]["value"]["text"] = texts[index]
    screener.items = raw
    if renamed:
        rules = list(screener.rules.raw_data)
        for rule in rules:
            rule["value"]["items"] = [rename(ref, renamed) for ref in rule["value"]["items"]]
        screener.rules = rules
    screener.save_revision().publish()
    screener.refresh_from_db()
    return screener


def rename(ref, renamed: dict[str, str]):
    """A ListBlock child as stored (a plain string, or {"type", "value", "id"}), re-pointed."""
    if isinstance(ref, dict):
        return {**ref, "value": renamed.get(ref["value"], ref["value"])}
    return renamed.get(ref, ref)


@pytest.fixture
def screener(seed):
    """The seed screener, its program page written and published as the department would.

    The seed loader keeps the program page a draft (it has only a title, and a reader must
    not land on an empty page), so the "go on" links need it filled in first.
    """
    from screening.models import ProgramPage, ScreenerPage

    program = ProgramPage.objects.get()
    program.intro = "<p>Gentle exercises for back pain, ten minutes a day.</p>"
    program.save_revision().publish()
    return ScreenerPage.objects.get()


@pytest.fixture
def graded_screener(screener):
    """Leg symptoms: doctor; bladder/bowel: emergency; fever: doctor; cancer history: care team.

    The seed now grades them so (issue 14); publishing again keeps older tests explicit.
    """
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
    if backend == "RedisCache":
        from django_redis import get_redis_connection

        client = get_redis_connection()
        return {key.decode(): repr(client.get(key)) for key in client.scan_iter(count=1000)}
    pytest.fail(f"unexpected cache backend {backend}")
