"""Privacy by design: after readers answer, nothing anywhere says what they answered.

Submit distinctive answers through the HTML form and the API, then search every table of
the database (every column, as text), the cache, the captured logs (including every SQL
statement sent, with its parameters), mail and the responses' cookies and headers. The
only trace allowed is the anonymous count per screener, per outcome, per day.
"""

import logging
from collections import Counter

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from screening.models import ScreeningOutcomeCount
from tests.screening.conftest import cache_entries, csrf_token, publish_items

# Texts no other content contains, so any occurrence is a leak of what was ticked.
TEXTS = [
    "Quokka-7 tingling in the left leg",
    "Narwhal-3 loss of bladder control",
    "Axolotl-5 unexplained fever",
    "Pangolin-9 history of cancer",
]
ALLOWED_TO_CHANGE = {"screening_screeningoutcomecount", "cms_cache"}


def as_text(value) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def snapshot() -> dict[str, Counter]:
    """Every row of every table, each as one string of all its columns."""
    tables: dict[str, Counter] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            tables[table] = Counter(
                " | ".join(as_text(value) for value in row) for row in cursor.fetchall()
            )
    return tables


def rows_mentioning(tables: dict[str, Counter], markers: list[str]) -> dict[str, int]:
    return {
        table: hits
        for table, rows in tables.items()
        if (hits := sum(n for row, n in rows.items() if any(m in row for m in markers)))
    }


@pytest.mark.django_db
def test_answers_leave_no_trace_beyond_the_daily_count(screener, caplog):
    page = publish_items(screener, ["doctor", "emergency", "doctor", "care_team"], TEXTS)
    leg, bladder, fever, history = ids = [item.id for item in page.items]
    markers = ids + TEXTS
    browser = Client(enforce_csrf_checks=True)
    api = Client()
    form = browser.get(page.url)
    token = csrf_token(form.content.decode())

    before = snapshot()
    # The scan reads the page content itself, so it would see a leak in any column.
    assert rows_mentioning(before, markers).get("screening_screenerpage") == 1

    caplog.set_level(logging.DEBUG)  # every logger, SQL statements included
    responses = []
    with CaptureQueriesContext(connection) as queries:
        responses.append(
            browser.post(page.url, {"csrfmiddlewaretoken": token, "answers": [fever, history]})
        )
        responses.append(
            browser.post(page.url, {"csrfmiddlewaretoken": token, "answers": ["none", fever]})
        )
        responses.append(browser.post(page.url, {"csrfmiddlewaretoken": token, "answers": []}))
        responses.append(
            api.post(
                f"/api/screening/{page.pk}/evaluate/",
                {"answers": [bladder, fever]},
                content_type="application/json",
            )
        )
        responses.append(
            api.post(
                f"/api/screening/{page.pk}/evaluate/",
                {"answers": [fever, "Okapi-1 not an item"]},
                content_type="application/json",
            )
        )
    after = snapshot()

    # The submissions did what readers expect: two outcomes and three errors.
    assert "Contact your care team today" in responses[0].content.decode()
    assert "cannot be selected together" in responses[1].content.decode()
    assert responses[3].json()["outcome"] == "emergency"
    assert responses[4].status_code == 400

    # 1. Only the counts (and the rate-limit counter, when the cache is the database) changed.
    changed = {table for table in after if after[table] != before.get(table, Counter())}
    assert changed <= ALLOWED_TO_CHANGE, changed - ALLOWED_TO_CHANGE
    assert rows_mentioning(after, [*markers, "Okapi-1"]) == rows_mentioning(before, markers)

    # 2. The count rows hold a page, an outcome, a day and a number: nothing else.
    columns = {
        column.name
        for column in connection.introspection.get_table_description(
            connection.cursor(), "screening_screeningoutcomecount"
        )
    }
    assert columns == {"id", "screener_id", "outcome", "date", "count"}
    counts = set(
        ScreeningOutcomeCount.objects.values_list("screener_id", "outcome", "date", "count")
    )
    assert counts == {
        (page.pk, "care_team", timezone.localdate(), 1),
        (page.pk, "emergency", timezone.localdate(), 1),
    }

    # 3. No SQL statement ever carried an answer, even one later rolled back or deleted.
    assert queries.captured_queries, "queries were captured"
    for query in queries.captured_queries:
        assert not any(m in query["sql"] for m in [*markers, "Okapi-1"]), query["sql"]

    # 4. No log record, at any level, mentions an answer.
    assert caplog.records, "logs were captured"
    for record in caplog.records:
        text = record.getMessage() + repr(getattr(record, "args", ""))
        assert not any(m in text for m in [*markers, "Okapi-1"]), text

    # 5. Nor the cache (keys or values), mail, cookies, URLs or the session.
    for key, value in cache_entries().items():
        assert not any(m in key or m in value for m in [*markers, "Okapi-1"]), key
    assert mail.outbox == []
    for response in responses:
        assert "Location" not in response
        for morsel in response.cookies.values():
            assert not any(m in morsel.value for m in markers)
        assert "no-store" in response["Cache-Control"]
    assert not browser.session.items()
