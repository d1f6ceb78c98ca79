"""The changes feed with 100,000 events in the outbox, on PostgreSQL, against a trivial view.

``python -m benchmarks changes`` (PostgreSQL only: DATABASE_URL must point at a server;
the benchmark creates its own database there and drops it at the end). In-process through
Django's test client, one client, so it measures our code and the database, not the
network. Figures are requests/s and the ratio to ``/robots.txt`` measured in the same run:

* cached: one URL asked again and again (the shared response cache answers);
* uncached: a different ``since`` every request, spread over the whole history (a miss
  each: the view stamps, reads a page of changes and checks visibility), and the
  snapshot's first page with the cache cleared before each request;

then the query plan of a page of changes 90 % deep (it must read an index range).

BENCH_CHANGES_EVENTS (100000) and BENCH_CHANGES_SECONDS (3) adjust it.
"""

from __future__ import annotations

import os
import random
import time

from benchmarks.bench_scheduler import _create_postgres_database
from benchmarks.common import print_table

EVENTS = int(os.environ.get("BENCH_CHANGES_EVENTS", "100000"))
SECONDS = float(os.environ.get("BENCH_CHANGES_SECONDS", "3"))


def _rate(ask, seconds: float) -> float:
    ask(0)  # warm up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        response = ask(done)
        assert response.status_code == 200, response.content[:200]
        done += 1
    return done / (time.perf_counter() - started)


def _fill(count: int) -> None:
    from django.utils import timezone
    from wagtail.models import Page

    from publishing.models import WebhookEvent
    from publishing.webhooks import changes

    changes.stamp()
    top = changes.high_water()
    pages = list(Page.objects.filter(depth__gt=1).values_list("pk", "title"))
    kinds = ["page.updated"] * 8 + ["page.unpublished", "page.published"]
    now = timezone.now()
    batch = []
    for n in range(count):
        pk, title = pages[n % len(pages)]
        batch.append(
            WebhookEvent(
                type=kinds[n % len(kinds)],
                page_id=pk,
                page_title=title,
                version=n + 1,
                occurred_at=now,
                data={},
                page_type="cms.BlogPostPage",
                page_url=f"http://testserver/p/{pk}/",
                page_tags="|diet|" if n % 7 == 0 else "",
                seq=top + n + 1,
            )
        )
        if len(batch) == 5000:
            WebhookEvent.objects.bulk_create(batch)
            batch = []
    WebhookEvent.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE publishing_webhookevent")


def run() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("skipped: the changes benchmark needs PostgreSQL (DATABASE_URL=postgres://...)")
        return
    database_url, drop = _create_postgres_database(url, "bench_changes")
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.test")
    try:
        _measure()
    finally:
        from django.db import connections

        connections.close_all()
        drop()


def _measure() -> None:
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from publishing.models import WebhookEvent
    from publishing.webhooks import changes

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_seed_content", verbosity=0)
    _fill(EVENTS)
    top = changes.high_water()
    client = Client()
    rng = random.Random(7)
    cursors = [changes.Cursor("d", rng.randrange(0, top)).encode() for _ in range(100_000)]

    trivial = _rate(lambda n: client.get("/robots.txt"), SECONDS)
    deep = changes.Cursor("d", int(top * 0.9)).encode()
    cached = _rate(lambda n: client.get("/api/changes/", {"since": deep}), SECONDS)

    def uncached_delta(n):
        return client.get("/api/changes/", {"since": cursors[n % len(cursors)]})

    def uncached_snapshot(n):
        cache.clear()
        return client.get("/api/changes/")

    def uncached_typed(n):
        return client.get(
            "/api/changes/", {"since": cursors[n % len(cursors)], "type": "cms.BlogPostPage"}
        )

    delta = _rate(uncached_delta, SECONDS)
    typed = _rate(uncached_typed, SECONDS)
    snapshot = _rate(uncached_snapshot, SECONDS)
    rows = [
        ["trivial view (/robots.txt)", f"{trivial:.0f}", "1.00"],
        ["changes, cached (same since)", f"{cached:.0f}", f"{cached / trivial:.2f}"],
        ["changes, uncached (since anywhere)", f"{delta:.0f}", f"{delta / trivial:.2f}"],
        ["changes, uncached, ?type=", f"{typed:.0f}", f"{typed / trivial:.2f}"],
        ["snapshot first page, uncached", f"{snapshot:.0f}", f"{snapshot / trivial:.2f}"],
    ]
    count = WebhookEvent.objects.count()
    print(f"{count} events in the outbox, PostgreSQL, one in-process client, {SECONDS:.0f} s each.")
    print()
    print_table(["target", "requests/s", "vs trivial"], rows)
    query = WebhookEvent.objects.filter(seq__gt=int(top * 0.9), seq__lte=top).order_by("seq")
    print("\nA page of changes 90 % deep (EXPLAIN ANALYZE):\n")
    print(query[:101].explain(analyze=True))
