"""The changes feed on PostgreSQL: no gaps when publishes commit out of order, and a page
of changes reads an index range.

Two real transactions on two connections (threads): the first to insert its event (the
lower id) commits last. A cursor handed out between the two commits must still lead to
it. SQLite cannot interleave them (every write transaction takes the one write lock at
BEGIN), so there the case cannot arise and the test is PostgreSQL's.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from cms.models import Author
from publishing.models import WebhookEvent
from publishing.webhooks import changes
from tests.factories import make_post
from tests.services import skip_or_fail

URL = "/api/changes/"


def needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (DATABASE_URL) for interleaved transactions")


def read(client: Client, since: str) -> dict:
    response = client.get(URL, {"since": since})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_a_publish_committed_after_a_later_one_is_served_after_the_cursor(seed):
    needs_postgresql()
    author = Author.objects.get(slug="dr-pan")
    slow = make_post(seed["blog"], "Slow", dt.date(2024, 1, 1), author, publish=False)
    fast = make_post(seed["blog"], "Fast", dt.date(2024, 1, 2), author, publish=False)
    client = Client()
    body = client.get(URL, {"limit": 500}).json()
    while body["has_more"]:
        body = read(client, body["next"])
    start = body["next"]

    slow_inserted, fast_committed = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def publish_slowly() -> None:
        try:
            with transaction.atomic():
                slow.get_latest_revision().publish()
                slow_inserted.set()
                assert fast_committed.wait(30)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            slow_inserted.set()
        finally:
            connection.close()

    thread = threading.Thread(target=publish_slowly)
    thread.start()
    try:
        assert slow_inserted.wait(30)
        with transaction.atomic():
            fast.get_latest_revision().publish()
        # "fast" is committed and stamped; "slow" is inserted (lower id), not committed.
        seen = read(client, start)
        assert [i["page"]["id"] for i in seen["items"]] == [fast.pk]
        cursor = seen["next"]
    finally:
        fast_committed.set()
        thread.join(30)
    assert not errors, errors

    slow_event = WebhookEvent.objects.get(page_id=slow.pk)
    fast_event = WebhookEvent.objects.get(page_id=fast.pk)
    assert slow_event.pk < fast_event.pk  # the premise: ids are not commit order
    assert slow_event.seq > fast_event.seq  # seq is
    later = read(client, cursor)
    assert [i["page"]["id"] for i in later["items"]] == [slow.pk]


@pytest.mark.django_db(transaction=True)
def test_concurrent_stampers_number_every_event_once_and_densely(seed):
    needs_postgresql()
    author = Author.objects.get(slug="dr-pan")
    for n in range(6):
        make_post(seed["blog"], f"Post {n}", dt.date(2024, 1, n + 1), author)
    WebhookEvent.objects.update(seq=None)
    barrier = threading.Barrier(4)

    def stamp() -> None:
        try:
            barrier.wait(10)
            changes.stamp()
        finally:
            connection.close()

    threads = [threading.Thread(target=stamp) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    seqs = sorted(WebhookEvent.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    ids_by_seq = list(WebhookEvent.objects.order_by("seq").values_list("pk", flat=True))
    assert ids_by_seq == sorted(ids_by_seq)


@pytest.mark.django_db
def test_a_page_of_changes_reads_an_index_range(seed):
    needs_postgresql()
    with connection.cursor() as cursor:
        # A test table is too small for the planner to prefer an index; forbid the scan
        # (this transaction only) to see whether the query *can* use one.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plain = WebhookEvent.objects.filter(seq__gt=10, seq__lte=10_000).order_by("seq")[:101]
    assert "webhookevent_seq_key" in plain.explain(), plain.explain()
    typed = WebhookEvent.objects.filter(
        seq__gt=10, seq__lte=10_000, page_type="cms.BlogPostPage"
    ).order_by("seq")[:101]
    assert "webhookevent_type_seq_idx" in typed.explain(), typed.explain()
