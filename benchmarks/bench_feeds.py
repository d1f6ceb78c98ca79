"""Feeds: cached-feed throughput against a trivial view, queries per build, publish latency.

Everything runs as real processes on loopback, against a database the benchmark creates
in a temporary directory (SQLite) with an embedded Redis as broker and cache:
gunicorn (2 sync workers) serves the product's URLs plus a trivial view; a Celery worker
sends WebSub pings; a local hub records them. Load comes from a thread pool in this
process, alternating between the feed and the trivial view so both see the same machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

from benchmarks.common import percentile, print_table

ROOT = Path(__file__).resolve().parent.parent
POSTS = int(os.environ.get("BENCH_FEED_POSTS", "5000"))
#: Seconds of load per round; two rounds per target, interleaved.
ROUND_SECONDS = float(os.environ.get("BENCH_FEED_ROUND_SECONDS", "6"))
CLIENT_THREADS = int(os.environ.get("BENCH_FEED_CLIENTS", "8"))
PUBLISHES = int(os.environ.get("BENCH_FEED_PUBLISHES", "30"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        with urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except (URLError, OSError):
        return False


def _run_helper(
    env: dict, *args: str, timeout: float = 600, module: str = "benchmarks.feeds_helper"
) -> dict:
    """Run one helper command against the benchmark database; its last stdout line is JSON."""
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{module} {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load(url: str, seconds: float, clients: int = CLIENT_THREADS) -> tuple[int, list[float], int]:
    """Hit ``url`` from ``clients`` threads for ``seconds``: (requests, latencies, errors)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker() -> None:
        mine: list[float] = []
        failed = 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                conn.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
            except OSError:
                failed += 1
            finally:
                conn.close()
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    return len(latencies), latencies, errors[0]


@contextmanager
def bench_stack(
    posts: int,
    hub_port: int | None = None,
    *,
    database_url: str | None = None,
    helper: str = "benchmarks.feeds_helper",
) -> Iterator[tuple[str, dict, dict]]:
    """Embedded Redis, a fresh database with ``posts`` posts, gunicorn (2 workers, the
    product's URLs plus /bench/trivial/) and a Celery worker, all real processes.

    The database is a temporary SQLite file unless ``database_url`` names one the caller
    created (and drops); ``helper``'s ``setup`` command fills it. Yields (server base URL,
    the processes' environment, the setup helper's result) and stops everything afterwards.
    """
    workdir = Path(tempfile.mkdtemp(prefix="bench-stack-"))
    processes: list[subprocess.Popen] = []
    logs = []
    try:
        redis_socket = workdir / "redis.sock"
        from cms.embedded_redis import server_argv

        processes.append(
            subprocess.Popen(
                server_argv(workdir, redis_socket),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        port = _free_port()
        server = f"http://127.0.0.1:{port}"
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "REDIS_CACHE_URL", "CELERY_BROKER_URL"}
        }
        env.update(
            DJANGO_SETTINGS_MODULE="benchmarks.feeds_settings",
            DATABASE_URL=database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
            # A real Redis for the cache (shared by web and worker) and the broker,
            # in separate databases.
            REDIS_URL=f"unix://{redis_socket}",
            REDIS_CACHE_URL=f"unix://{redis_socket}?db=1",
            CELERY_BROKER_URL=f"redis+socket://{redis_socket}",
            CELERY_TASK_ALWAYS_EAGER="0",
            WEBSUB_HUBS=f"http://127.0.0.1:{hub_port}/hub" if hub_port else "",
            WAGTAILADMIN_BASE_URL=server,
            RUN_DIR=str(workdir),
            PYTHONUNBUFFERED="1",
        )
        _wait(redis_socket.exists, 10, "embedded redis")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=600,
        )
        setup = _run_helper(env, "setup", str(posts), module=helper)

        def start(argv: list[str], name: str) -> None:
            log = open(workdir / f"{name}.log", "w")  # noqa: SIM115 - closed in finally
            logs.append(log)
            processes.append(
                subprocess.Popen(
                    argv,
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

        start(
            [sys.executable, "-m", "gunicorn", "cms.wsgi:application", "-w", "2",
             "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
            "gunicorn",
        )  # fmt: skip
        start(
            [sys.executable, "-m", "celery", "-A", "cms", "worker", "-l", "warning",
             "--concurrency", "2", "--without-mingle", "--without-gossip"],
            "worker",
        )  # fmt: skip
        _wait(lambda: _answers(f"{server}/bench/trivial/"), 60, "gunicorn")
        yield server, env, setup
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in logs:
            log.close()
        shutil.rmtree(workdir, ignore_errors=True)


def run() -> None:
    hub_port = _free_port()
    with bench_stack(POSTS, hub_port) as (server, env, setup):
        feed_url = f"{server}/feeds/blog/atom/"
        trivial_url = f"{server}/bench/trivial/"
        _wait(lambda: _answers(feed_url), 60, "the feed (first build)")

        totals: dict[str, list] = {"trivial view": [0, [], 0], "cached feed": [0, [], 0]}
        for _round in range(2):
            for name, url in (("trivial view", trivial_url), ("cached feed", feed_url)):
                _load(url, 1)  # warm up
                count, latencies, errors = _load(url, ROUND_SECONDS)
                totals[name][0] += count
                totals[name][1] += latencies
                totals[name][2] += errors
        seconds = 2 * ROUND_SECONDS
        base_rps = totals["trivial view"][0] / seconds
        rows = []
        for name, (count, latencies, errors) in totals.items():
            rps = count / seconds
            rows.append(
                [
                    name,
                    f"{rps:.0f}",
                    f"{rps / base_rps:.2f}",
                    f"{percentile(latencies, 50) * 1000:.1f}",
                    f"{percentile(latencies, 99) * 1000:.1f}",
                    errors,
                ]
            )
        print(
            f"Throughput, gunicorn -w 2, {CLIENT_THREADS} client threads, "
            f"{seconds:.0f}s per target, blog of {POSTS} posts (target: feed >= 0.5x trivial)\n"
        )
        print_table(["target", "req/s", "x trivial", "p50 ms", "p99 ms", "errors"], rows)

        print("\nSQL queries per feed build (cache cleared; target: equal)\n")
        (small_n, small), (large_n, large) = setup["queries"]
        print_table(
            ["posts", "rss", "atom", "json"],
            [[small_n, small["rss"], small["atom"], small["json"]],
             [large_n, large["rss"], large["atom"], large["json"]]],
        )  # fmt: skip

        result = _run_helper(env, "latency", server, str(hub_port), str(PUBLISHES))
        print(
            f"\nPublish → visible, {PUBLISHES} publishes, real worker and hub (target: p99 < 1 s)\n"
        )
        print_table(
            ["publish until", "p50 s", "p99 s", "max s"],
            [
                [label, percentile(values, 50), percentile(values, 99), max(values)]
                for label, values in (
                    ("feed shows it", result["to_feed"]),
                    ("hub pinged", result["to_hub"]),
                )
            ],
        )
