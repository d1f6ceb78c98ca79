"""Server time to render reader pages on seed content, against a trivial view.

Runs in-process through Django's test client against a throwaway SQLite database (or
BENCH_DATABASE_URL), so it measures our code, not the network.
"""

import os
import statistics
import tempfile
import time

from benchmarks.common import percentile, print_table

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))


def setup_django() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-pages-")
    os.environ["DATABASE_URL"] = (
        os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/db.sqlite3"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_seed_content", verbosity=0)


def time_url(client, url: str, rounds: int) -> list[float]:
    client.get(url)  # warm caches and template loading
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 404), (url, response.status_code)
    return samples


def run() -> None:
    setup_django()
    from django.test import Client
    from wagtail.models import Page

    client = Client()
    pages = {page.title[:40]: page.url for page in Page.objects.live().specific() if page.depth > 1}
    baseline = time_url(client, "/robots.txt", ROUNDS)
    base_p50 = statistics.median(baseline)
    rows = [
        ["trivial view (/robots.txt)", f"{base_p50:.2f}", f"{percentile(baseline, 99):.2f}", "1.0"]
    ]
    worst = 0.0
    for title, url in pages.items():
        samples = time_url(client, url, ROUNDS)
        p50, p99 = statistics.median(samples), percentile(samples, 99)
        worst = max(worst, p50)
        rows.append([title, f"{p50:.2f}", f"{p99:.2f}", f"{p50 / base_p50:.1f}x"])
    print(f"{ROUNDS} requests per page through the Django test client, seed content, SQLite.\n")
    print_table(["page", "p50 ms", "p99 ms", "p50 vs trivial"], rows)
    verdict = "meets" if worst < 50 else "MISSES"
    print(f"\nSlowest page p50 {worst:.1f} ms: {verdict} the 50 ms server-time target.")
