"""The screener's cost per reader, against the page API a partner calls anyway.

Runs in-process (Django's test client) on a throw-away SQLite database migrated and seeded
here, so it never touches a developer's data. Figures are ratios to the baseline
``GET /api/v2/pages/<screener id>/`` measured in the same run.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import percentile, print_table

ROUNDS = int(os.environ.get("BENCH_SCREENING_ROUNDS", "200"))


def _setup(tmp: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.test")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    for name in ("REDIS_URL", "REDIS_CACHE_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.SCREENING_API_RATE_LIMIT = 10**9  # measure the work, not the limiter's refusals
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 400 row warns 220 times
    devnull = open(os.devnull, "w")  # noqa: SIM115 - closed below
    call_command("migrate", verbosity=0, stdout=devnull)
    call_command("load_seed_content", stdout=devnull)
    devnull.close()


def _time(fn: Callable[[], object], rounds: int) -> list[float]:
    for _ in range(min(20, rounds)):  # warm caches and lazy imports
        fn()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-screening-") as tmp:
        _setup(Path(tmp))
        from django.test import Client

        from screening.models import ScreenerPage, ScreeningOutcomeCount

        page = ScreenerPage.objects.get()
        ids = [item.id for item in page.items]
        client = Client()
        form_html = client.get(page.url).content.decode()
        token = form_html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        api_url = f"/api/screening/{page.pk}/evaluate/"
        detail_url = f"/api/v2/pages/{page.pk}/"

        def check(response, status=200):
            assert response.status_code == status, response.status_code
            return response

        def api(body, status=200):
            return check(client.post(api_url, body, content_type="application/json"), status)

        def html_post(answers):
            return check(client.post(page.url, {"csrfmiddlewaretoken": token, "answers": answers}))

        cases = [
            ("GET /api/v2/pages/<id>/ (baseline)", lambda: check(client.get(detail_url))),
            ("POST evaluate API, none", lambda: api({"answers": ["none"]})),
            ("POST evaluate API, 4 items", lambda: api({"answers": ids})),
            ("POST evaluate API, bad input (400)", lambda: api("nope", 400)),
            ("GET screener form (HTML)", lambda: check(client.get(page.url))),
            ("POST screener form, outcome (HTML)", lambda: html_post(ids[:2])),
        ]  # fmt: skip
        results = [(name, _time(fn, ROUNDS)) for name, fn in cases]
        baseline = statistics.median(results[0][1])
        print(f"{ROUNDS} requests per row, in-process test client, SQLite, database cache\n")
        print_table(
            ["request", "median ms", "p95 ms", "median / baseline"],
            [
                (name, statistics.median(s), percentile(s, 95), statistics.median(s) / baseline)
                for name, s in results
            ],
        )
        total = sum(ScreeningOutcomeCount.objects.values_list("count", flat=True))
        print(f"\n(outcome counts recorded: {total}; one row per outcome per day)")
