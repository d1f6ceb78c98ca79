"""Load: the endpoints partners and readers hit most, at 10 and 50 concurrent clients.

The same real stack as the feeds benchmark (gunicorn with 2 workers on this 2-core
machine, embedded Redis cache, 5,000 posts), with a trivial view on the same server
measured in the same run as the baseline. Each target gets its own short burst.

The load comes from wrk when it is installed (``apt-get install wrk``): a C client
needs a fraction of the CPU that Python threads do, so the figures describe the
server rather than the client sharing its two cores. Without wrk, Python threads
(``benchmarks.bench_feeds._load``) drive it and the header says so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from urllib.request import urlopen

from benchmarks.bench_feeds import _load, bench_stack
from benchmarks.common import percentile, print_table

POSTS = int(os.environ.get("BENCH_LOAD_POSTS", "5000"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "5"))
CLIENTS = [int(n) for n in os.environ.get("BENCH_LOAD_CLIENTS", "10,50").split(",")]
WRK = shutil.which("wrk") if os.environ.get("BENCH_LOAD_CLIENT", "wrk") == "wrk" else None
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _json(url: str) -> dict:
    with urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
        return json.load(response)


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * UNITS[unit]


def _wrk(url: str, seconds: float, clients: int) -> tuple[float, float, float, int]:
    """(requests/s, p50 s, p99 s, errors) from one wrk run."""
    threads = str(min(2, clients))
    out = subprocess.run(
        [
            WRK,
            "-t",
            threads,
            "-c",
            str(clients),
            "-d",
            f"{max(1, round(seconds))}s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket = re.search(r"Socket errors: connect (\d+), read \d+, write (\d+), timeout (\d+)", out)
    if socket:
        # gunicorn's sync workers close each connection, so wrk's read errors on
        # reconnection are not failures; refused connections, writes and timeouts are.
        errors += sum(int(n) for n in socket.groups())
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, _seconds(latency["50"]), _seconds(latency["99"]), errors


def _measure(url: str, clients: int) -> tuple[float, float, float, int]:
    if WRK:
        _wrk(url, 1, clients)  # warm up
        return _wrk(url, SECONDS, clients)
    _load(url, 1, clients)
    count, latencies, errors = _load(url, SECONDS, clients)
    return count / SECONDS, percentile(latencies, 50), percentile(latencies, 99), errors


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
                rps, p50, p99, errors = _measure(url, clients)
                base_rps = base_rps or rps
                rows.append(
                    [
                        clients,
                        name,
                        f"{rps:.0f}",
                        f"{rps / base_rps:.2f}",
                        f"{p50 * 1000:.1f}",
                        f"{p99 * 1000:.1f}",
                        errors,
                    ]
                )
        client = "wrk" if WRK else "Python threads in this process (install wrk for figures)"
        print(
            f"gunicorn -w 2, {POSTS} posts, {SECONDS:.0f}s per target, load from {client}; "
            "targets: cached endpoints >= 0.5x trivial, p99 < 100 ms at 50 clients\n"
        )
        print_table(["clients", "target", "req/s", "x trivial", "p50 ms", "p99 ms", "errors"], rows)
