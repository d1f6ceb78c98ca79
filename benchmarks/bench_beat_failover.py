"""Beat failover: kill -9 of the active beat → the next armed publish (issue 17: ≤ 5 s).

``python -m benchmarks beat_failover``. A worker and two beats (cms/beat.py's lease) run
against a database of their own (as the scheduler benchmark makes one) and a Redis of
their own (the embedded binary, or database BENCH_REDIS_DB of REDIS_URL). Each round:
a page is scheduled an hour ahead (beyond the sweep's horizon, so nothing arms it), the
beat holding the lease is killed (-9) and the page's time moved to that instant: only a
sweep sent by a live beat can arm it, so the time from the kill until it is live is the
failover as an editor sees it. A fresh beat replaces the killed one before the next round.
BENCH_FAILOVER_ROUNDS (default 5) sets the rounds.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_FAILOVER_ROUNDS", "5"))


def run() -> None:
    """Parent: a database of its own, then the child prints the table."""
    from benchmarks.bench_scheduler import run_child

    run_child("benchmarks.bench_beat_failover", "bench_failover", timeout=600)


def _child() -> None:
    import django

    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        from cms.settings.base import redis_db_url

        os.environ["REDIS_CACHE_URL"] = redis_db_url(
            redis_url, int(os.environ.get("BENCH_REDIS_CACHE_DB", "12"))
        )
    django.setup()

    from django.core.management import call_command
    from django.utils import timezone

    from benchmarks.common import percentile, print_table
    from cms.beat import LEASE_KEY, redis_for
    from cms.models import BlogPostPage
    from tests.publishing.publish import assert_published_once, retime, schedule_posts
    from tests.services import CeleryProcess, EmbeddedRedis, redis_client, wait_until

    run_dir = Path(os.environ["RUN_DIR"])
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the child
    call_command("migrate", verbosity=0, stdout=devnull)
    call_command("load_seed_content", stdout=devnull)
    server = None
    if redis_url:
        from cms.settings.base import redis_db_url

        broker = redis_db_url(redis_url, int(os.environ.get("BENCH_REDIS_DB", "13")))
        redis_client(broker).flushdb()
        mode = "PostgreSQL + Redis" if "postgres" in os.environ["DATABASE_URL"] else "Redis"
    else:
        server = EmbeddedRedis(run_dir / "redis")
        server.start(persist=False)
        broker = server.url
        mode = "embedded (SQLite + embedded Redis)"
    env = {**os.environ, "CELERY_BROKER_URL": broker}
    client = redis_for(broker)
    blog = BlogPostPage.objects.first().get_parent().specific

    def start(kind: str, *extra: str) -> CeleryProcess:
        process = CeleryProcess(kind, env, run_dir, *extra).start()
        process.wait_ready(60)
        return process

    def holder() -> int | None:
        value = client.get(LEASE_KEY)
        return int(value.decode().split(":")[1]) if value else None

    processes = [start("worker", "--concurrency", "1"), start("beat"), start("beat")]
    figures, published = [], []
    try:
        for round_ in range(ROUNDS):
            beats = {p.process.pid: p for p in processes if p.kind == "beat" and p.process}
            pid = wait_until(lambda: holder() in beats and holder(), 30, what="a leader")  # noqa: B023
            time.sleep(2)  # the standby has settled into its polling
            # Beyond the sweep's horizon: the leader never arms it before it dies.
            pairs = schedule_posts(
                blog, [timezone.now() + dt.timedelta(hours=1)], f"Failover {round_}"
            )
            beats[pid].kill9()
            killed_at = timezone.now()
            retime(pairs, killed_at)  # due now: only a sweep from a live beat arms it
            wait_until(
                lambda: BlogPostPage.objects.filter(pk=pairs[0][0], live=True).exists(),  # noqa: B023
                60,
                interval=0.02,
                what="the publish after the kill",
            )
            live_at = BlogPostPage.objects.get(pk=pairs[0][0]).first_published_at
            figures.append((live_at - killed_at).total_seconds())
            published += pairs
            processes = [p for p in processes if p is not beats[pid]]
            processes.append(start("beat"))
        assert_published_once(published)
    finally:
        for process in processes:
            process.stop()
        if server:
            server.stop()
    print(f"mode: {mode}; {ROUNDS} rounds; lease {os.environ.get('BEAT_LEASE_SECONDS', '3')} s\n")
    print_table(
        ["figure", "rounds", "once", "p50 s", "max s", "target s"],
        [
            [
                "kill -9 of active beat → next armed publish",
                ROUNDS,
                "yes",
                percentile(figures, 50),
                max(figures),
                5.0,
            ]
        ],
    )


if __name__ == "__main__" and "--child" in sys.argv:
    _child()
