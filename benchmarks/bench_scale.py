"""Scale: 100,000 posts in PostgreSQL, and the scheduler's sweep with 10,000 pending schedules.

``python -m benchmarks scale`` (PostgreSQL only: DATABASE_URL must point at a server; the
benchmark creates its own database there and drops it at the end). The stack is the feeds
benchmark's (gunicorn with 2 workers, a Celery worker, an embedded Redis for cache and
broker, a trivial view on the same server), with the database on PostgreSQL.

1. The blog grows to 5,000 posts (the baseline), then to 100,000, written with COPY
   (see :mod:`benchmarks.scale_helper`) and checked with treebeard's consistency check and
   by fetching a new post through the API and as HTML. At each size: throughput and p99
   under load for the API list (newest first, and at an offset 90 % deep), API detail, the
   RSS feed, and the blog index (first, second and a page 90 % deep), each next to the
   trivial view measured in the same phase; and the time of one request just after the
   cache was cleared (a miss), median of three.
2. The sweep beat runs every second, timed with no pending schedules and with 10,000
   scheduled revisions plus 10,000 future expiries; its queries through EXPLAIN ANALYZE,
   with and without the partial ``expire_at`` index (cms migration 0004).

BENCH_SCALE_POSTS (100000), BENCH_SCALE_BASE (5000), BENCH_SCALE_PENDING (10000),
BENCH_SCALE_CLIENTS (10,50) and BENCH_SCALE_SECONDS (4) adjust it. A target whose p99 is
over a second at 10 clients is not loaded with 50: two sync workers would queue them for
minutes (past gunicorn's 30 s timeout) to say the same thing.
"""

from __future__ import annotations

import http.client
import os
import statistics
import time
from urllib.parse import urlsplit

from benchmarks.bench_feeds import _load, _run_helper, bench_stack
from benchmarks.bench_scheduler import _create_postgres_database
from benchmarks.common import percentile, print_table

POSTS = int(os.environ.get("BENCH_SCALE_POSTS", "100000"))
BASE = int(os.environ.get("BENCH_SCALE_BASE", "5000"))
PENDING = int(os.environ.get("BENCH_SCALE_PENDING", "10000"))
CLIENTS = [int(n) for n in os.environ.get("BENCH_SCALE_CLIENTS", "10,50").split(",")]
SECONDS = float(os.environ.get("BENCH_SCALE_SECONDS", "4"))
MISSES = 3
#: A target whose p99 exceeds this (seconds) at fewer clients is not loaded with more.
SLOW = 1.0
HELPER = "benchmarks.scale_helper"


def _helper(env: dict, *args: str) -> dict:
    return _run_helper(env, *args, module=HELPER, timeout=900)


def _get(url: str) -> tuple[int, bytes, float]:
    """One request on a fresh connection: (status, body, seconds)."""
    parts = urlsplit(url)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return response.status, body, time.perf_counter() - started


def _clear_cache(env: dict) -> None:
    """Empty the stack's own cache database (the embedded Redis, never a shared one)."""
    import redis

    url = env["REDIS_CACHE_URL"]
    path, _, query = url.removeprefix("unix://").partition("?")
    redis.Redis(unix_socket_path=path, db=int(query.removeprefix("db=") or 0)).flushdb()


def _deep(posts: int) -> tuple[int, int]:
    """An API offset and a blog index page number 90 % of the way down the blog."""
    return int(posts * 0.9), max(3, int(posts / 10 * 0.9))


def _targets(server: str, posts: int, info: dict) -> dict[str, str]:
    api = f"{server}/api/v2/pages/?type=cms.BlogPostPage&fields=*&limit=20"
    blog = f"{server}{info['blog_url']}"
    offset, page = _deep(posts)
    return {
        "trivial view": f"{server}/bench/trivial/",
        "API v2 list, newest 20": f"{api}&order=-first_published_at",
        "API v2 list, deep offset": f"{api}&order=-first_published_at&offset={offset}",
        "API v2 detail": f"{server}/api/v2/pages/{info['sample']['id']}/",
        "RSS feed": f"{server}/feeds/blog/rss/",
        "blog index": blog,
        "blog index ?page=2": f"{blog}?page=2",
        "blog index, deep page": f"{blog}?page={page}",
    }


def _verify(server: str, info: dict) -> None:
    """The copied rows form pages Wagtail serves: a valid tree, API and HTML for a new post."""
    if any(info["tree"].values()):
        raise RuntimeError(f"the page tree has problems: {info['tree']}")
    sample = info["sample"]
    status, body, _ = _get(f"{server}/api/v2/pages/{sample['id']}/")
    if status != 200 or sample["title"].encode() not in body:
        raise RuntimeError(f"API detail of post {sample['id']}: {status}")
    status, body, _ = _get(f"{server}{sample['url']}")
    if status != 200 or sample["title"].encode() not in body:
        raise RuntimeError(f"HTML of {sample['url']}: {status}")


def _measure(server: str, env: dict, posts: int, info: dict) -> dict:
    """Per target: cache-miss time, then throughput and latency per client count."""
    results: dict = {"miss": {}, "load": {}}
    for key, url in _targets(server, posts, info).items():
        misses = []
        for _ in range(MISSES):
            _clear_cache(env)
            status, _body, seconds = _get(url)
            if status != 200:
                raise RuntimeError(f"{url} answered {status}")
            misses.append(seconds)
        # The last miss refilled the cache: it doubles as the warm-up of the load below.
        results["miss"][key] = statistics.median(misses)
        for clients in sorted(CLIENTS):
            previous = [v for (k, _c), v in results["load"].items() if k == key]
            if previous and previous[-1][1] > SLOW:
                # Dozens of clients queueing on two sync workers for a response this slow
                # would take minutes (and hit gunicorn's timeout) to say the same thing.
                results["load"][(key, clients)] = None
                continue
            count, latencies, errors = _load(url, SECONDS, clients)
            results["load"][(key, clients)] = (count / SECONDS, percentile(latencies, 99), errors)
    return results


def run() -> None:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        print("skipped: the scale benchmark needs PostgreSQL (set DATABASE_URL=postgres://...)")
        return
    url, drop = _create_postgres_database(database_url, f"bench_scale_{os.getpid()}")
    try:
        with bench_stack(BASE, database_url=url, helper=HELPER) as (server, env, small):
            _verify(server, small)
            measured = {BASE: _measure(server, env, BASE, small)}
            sweeps = {f"{BASE:,} posts, 0 pending": _helper(env, "sweep")}
            large = _helper(env, "grow", str(POSTS))
            _verify(server, large)
            measured[POSTS] = _measure(server, env, POSTS, large)
            sweeps[f"{POSTS:,} posts, 0 pending"] = _helper(env, "sweep")
            scheduled = _helper(env, "schedule", str(PENDING))
            pending = f"{POSTS:,} posts, {PENDING:,} + {PENDING:,} pending"
            sweeps[f"{pending}, expire_at index"] = _helper(env, "sweep")
            plans = {"index": _helper(env, "explain")}
            _helper(env, "index", "drop")
            sweeps[f"{pending}, no expire_at index"] = _helper(env, "sweep")
            plans["no index"] = _helper(env, "explain")
            _helper(env, "index", "create")
    finally:
        drop()
    _report(small, large, scheduled, measured, sweeps, plans)


def _report(small, large, scheduled, measured, sweeps, plans) -> None:
    print(
        f"PostgreSQL; gunicorn -w 2; blog of {small['posts']:,} then {large['posts']:,} live"
        f" posts (COPY: {large['insert_s']:.0f}s for {large['posts'] - small['posts']:,};"
        f" tree check: {'clean' if not any(large['tree'].values()) else large['tree']})."
        f" {SECONDS:.0f}s per target; a shared, noisy 2-core machine: compare ratios.\n"
    )
    small_n, large_n = BASE, POSTS
    keys = list(measured[small_n]["miss"])
    print(
        "deep = API offset {} / {}, blog index page {} / {} (90 % down the blog)".format(
            *(f"{v:,}" for pair in zip(_deep(small_n), _deep(large_n), strict=True) for v in pair)
        )
    )
    for clients in CLIENTS:
        rows = []
        trivial = {n: measured[n]["load"][("trivial view", clients)][0] for n in measured}
        for key in keys:
            a = measured[small_n]["load"][(key, clients)]
            b = measured[large_n]["load"][(key, clients)]
            rows.append(
                [
                    key,
                    f"{a[0]:.0f} ({a[0] / trivial[small_n]:.2f}x)" if a else "not run",
                    f"{a[1] * 1000:.0f}" if a else "-",
                    f"{b[0]:.0f} ({b[0] / trivial[large_n]:.2f}x)" if b else "not run",
                    f"{b[1] * 1000:.0f}" if b else "-",
                    f"{b[0] / a[0]:.2f}" if a and b and a[0] else "-",
                    (a[2] if a else 0) + (b[2] if b else 0),
                ]
            )
        print(
            f"\nThroughput at {clients} clients (req/s, x the trivial view in the same phase;"
            f" 'not run': p99 over {SLOW:.0f} s with fewer clients)\n"
        )
        print_table(
            ["endpoint", f"{small_n:,}: req/s", "p99 ms", f"{large_n:,}: req/s", "p99 ms",
             f"{large_n / 1000:g}k / {small_n / 1000:g}k", "errors"],
            rows,
        )  # fmt: skip

    print(f"\nOne request right after clearing the cache (median of {MISSES}), ms\n")
    print_table(
        ["endpoint", f"{small_n:,}", f"{large_n:,}", "ratio"],
        [
            [
                key,
                f"{measured[small_n]['miss'][key] * 1000:.0f}",
                f"{measured[large_n]['miss'][key] * 1000:.0f}",
                f"{measured[large_n]['miss'][key] / measured[small_n]['miss'][key]:.1f}",
            ]
            for key in keys
        ],
    )

    base_key = f"{large_n:,} posts, 0 pending"
    print(
        f"\nscheduler sweep (beat runs it every second), {scheduled['scheduled']:,} scheduled"
        f" revisions and {scheduled['expiring']:,} future expiries from +1 h over 7 days\n"
    )
    base_ms = sweeps[base_key]["median_ms"]
    print_table(
        ["state", "median ms", "p95 ms", f"x {base_key}", "due_revisions ms", "due_expiries ms"],
        [
            [
                name,
                s["median_ms"],
                s["p95_ms"],
                f"{s['median_ms'] / base_ms:.2f}",
                s["revisions_ms"],
                s["expiries_ms"],
            ]
            for name, s in sweeps.items()
        ],
    )

    print("\nEXPLAIN ANALYZE of the sweep's queries (and the API's expiry filter)\n")
    print_table(
        ["query", "with expire_at index", "ms", "without", "ms"],
        [
            [
                name,
                "; ".join(plans["index"][name]["scans"]),
                plans["index"][name]["ms"],
                "; ".join(plans["no index"][name]["scans"]),
                plans["no index"][name]["ms"],
            ]
            for name in plans["index"]
        ],
    )
