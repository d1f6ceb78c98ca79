"""Load: the endpoints partners and readers hit most, at 10 and 50 concurrent clients.

The same real stack as the feeds benchmark (gunicorn with 2 workers on this 2-core
machine, embedded Redis cache, 5,000 posts), with a trivial view on the same server
measured in the same run as the baseline. Each target gets its own short burst; the
client threads run in this process, so they share the two cores with the server.
"""

from __future__ import annotations

import json
import os
from urllib.request import urlopen

from benchmarks.bench_feeds import _load, bench_stack
from benchmarks.common import percentile, print_table

POSTS = int(os.environ.get("BENCH_LOAD_POSTS", "5000"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "5"))
CLIENTS = [int(n) for n in os.environ.get("BENCH_LOAD_CLIENTS", "10,50").split(",")]


def _json(url: str) -> dict:
    with urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        return json.load(response)


def run() -> None:
    with bench_stack(POSTS) as (server, _env, _setup):
        listing = _json(f"{server}/api/v2/pages/?type=cms.BlogPostPage&limit=1")
        post = listing["items"][0]
        targets = {
            "trivial view": f"{server}/bench/trivial/",
            "API v2 list (20 posts, all fields)": (
                f"{server}/api/v2/pages/?type=cms.BlogPostPage&fields=*&limit=20"
            ),
            "API v2 detail": f"{server}/api/v2/pages/{post['id']}/",
            "API v3 detail": f"{server}/api/v3/pages/{post['id']}/",
            "feed (RSS, cached)": f"{server}/feeds/blog/rss/",
            "home page": f"{server}/",
            "post page": post["meta"]["html_url"].replace("http://testserver", server),
        }
        rows = []
        for clients in CLIENTS:
            base_rps = None
            for name, url in targets.items():
                _load(url, 1, clients)  # warm up
                count, latencies, errors = _load(url, SECONDS, clients)
                rps = count / SECONDS
                base_rps = base_rps or rps
                rows.append(
                    [
                        clients,
                        name,
                        f"{rps:.0f}",
                        f"{rps / base_rps:.2f}",
                        f"{percentile(latencies, 50) * 1000:.1f}",
                        f"{percentile(latencies, 99) * 1000:.1f}",
                        errors,
                    ]
                )
        print(
            f"gunicorn -w 2, {POSTS} posts, {SECONDS:.0f}s per target; targets: cached "
            "endpoints >= 0.5x trivial, p99 < 100 ms at 50 clients\n"
        )
        print_table(["clients", "target", "req/s", "x trivial", "p50 ms", "p99 ms", "errors"], rows)
