"""Partner webhooks: fan-out to 100 loopback partners, hanging partners, publish latency.

``python -m benchmarks webhooks`` (``make bench``). Runs on a throwaway database
(SQLite file, or ``bench_webhooks_<name>`` on PostgreSQL when ``DATABASE_URL`` is set) and
its own embedded Redis; everything it starts is stopped at the end.

Figures:
- fan-out: one publish to 100 partners, one send task each, through a real I/O worker
  (``--pool threads``) and Redis, with ``WEBHOOK_WORKER_CONCURRENCY`` threads against a
  baseline of one thread, in the same run;
- isolation: the same with 10 partners hanging until the read timeout (shortened to
  ``HANG_READ_TIMEOUT`` here to keep the run bounded): when the 90 healthy were delivered;
- latency: publish-to-delivery for one partner through the I/O worker and Redis, p50/p99,
  against an in-process send on commit (eager Celery) as the baseline.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import django

from benchmarks.common import percentile, print_table

PARTNERS = 100
HANGING = 10
HANG_READ_TIMEOUT = 3.0
LATENCY_SAMPLES = 40


class Receivers:
    """``count`` real HTTP servers on 127.0.0.1 recording when each request arrived."""

    def __init__(self, count: int, hanging: int = 0) -> None:
        self.arrivals: dict[int, float] = {}
        self.release = threading.Event()
        self.servers: list[ThreadingHTTPServer] = []
        receivers = self
        for index in range(count):
            hang = index < hanging

            class Handler(BaseHTTPRequestHandler):
                def log_message(self, *args) -> None:
                    pass

                def do_POST(self, hang=hang) -> None:
                    self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    port = self.server.server_address[1]
                    if hang:
                        receivers.release.wait(30)
                        return
                    receivers.arrivals[port] = time.monotonic()
                    self.send_response(204)
                    self.end_headers()

            server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{s.server_address[1]}/hook" for s in self.servers]

    def stop(self) -> None:
        self.release.set()
        for server in self.servers:
            server.shutdown()
            server.server_close()


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.test")
    os.environ.setdefault("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
    django.setup()


def _create_database():
    """A throwaway database, migrated, with the seed site; returns (connection, old name)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    test = settings.DATABASES["default"].setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test["NAME"] = str(Path(tempfile.mkdtemp(prefix="bench-webhooks-")) / "db.sqlite3")
    else:
        test["NAME"] = f"bench_webhooks_{settings.DATABASES['default']['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    call_command("load_seed_content", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return connection, old_name


def _publish(title: str) -> float:
    """Publish a new post; returns the monotonic time its transaction committed."""
    from django.db import transaction

    from cms.models import Author, BlogIndexPage, BlogPostAuthor, BlogPostPage

    blog = BlogIndexPage.objects.get()
    committed: list[float] = []
    with transaction.atomic():
        # Registered first, so it runs before the webhook hint that the publish registers.
        transaction.on_commit(lambda: committed.append(time.monotonic()))
        post = BlogPostPage(title=title, date=dt.date(2024, 5, 1), summary=title, live=False)
        post.post_authors = [BlogPostAuthor(author=Author.objects.get(slug="dr-pan"))]
        blog.add_child(instance=post)
        post.save_revision().publish()
    return committed[0]


def _partners(urls: list[str]) -> None:
    from publishing.models import Delivery, Partner

    Delivery.objects.all().delete()
    Partner.objects.all().delete()
    Partner.objects.bulk_create(
        Partner(name=f"bench-{index}", endpoint_url=url) for index, url in enumerate(urls)
    )


class Stack:
    """An embedded Redis as this process's broker, and real I/O workers started on demand.

    The I/O worker is the process that sends in production (``worker-io``: a thread pool
    on the webhooks queue), so fan-out and latency are measured through it.
    """

    def __init__(self, db_name: str) -> None:
        from django.db import connection

        from tests.services import EmbeddedRedis

        self.run_dir = Path(tempfile.mkdtemp(prefix="bench-webhooks-redis-"))
        self.redis = EmbeddedRedis(self.run_dir)
        settings_dict = connection.settings_dict
        if connection.vendor == "sqlite":
            db_url = f"sqlite:///{db_name}"
        else:
            user = settings_dict.get("USER") or ""
            host = settings_dict.get("HOST") or "127.0.0.1"
            db_url = f"postgres://{user}@{host}:{settings_dict.get('PORT') or 5432}/{db_name}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cms.settings.test",
            "DATABASE_URL": db_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "WEBHOOK_CONNECT_TIMEOUT": "2",
            "WEBHOOK_READ_TIMEOUT": str(HANG_READ_TIMEOUT),
            "PYTHONUNBUFFERED": "1",
        }

    def __enter__(self) -> Stack:
        from cms.celery import app

        self.redis.start(persist=False)
        self.env["CELERY_BROKER_URL"] = self.redis.url
        self.old = (app.conf.broker_url, app.conf.task_always_eager)
        app.conf.broker_url, app.conf.task_always_eager = self.redis.url, False
        _fresh_broker_connections(app)
        return self

    def __exit__(self, *exc_info) -> None:
        from cms.celery import app

        app.conf.broker_url, app.conf.task_always_eager = self.old
        _fresh_broker_connections(app)
        self.redis.stop()

    def io_worker(self, concurrency: int):
        """``celery worker`` with the I/O worker's options and ``concurrency`` threads."""
        from cms.celery import io_worker_options
        from tests.services import CeleryProcess

        worker = CeleryProcess(
            "worker-io", self.env, self.run_dir, *io_worker_options(concurrency)
        ).start()
        worker.wait_ready(60)
        return worker


def fan_out(stack: Stack, concurrency: int, hanging: int = 0) -> dict[str, float]:
    """One publish to PARTNERS partners, sent by an I/O worker with ``concurrency`` threads;
    when the healthy ones arrived and when every attempt was recorded."""
    from publishing.models import Delivery
    from tests.services import wait_until

    receivers = Receivers(PARTNERS, hanging=hanging)
    worker = stack.io_worker(concurrency)
    try:
        _partners(receivers.urls)
        started = _publish(f"Fan-out c={concurrency} hanging={hanging}")
        wait_until(lambda: len(receivers.arrivals) >= PARTNERS - hanging, 120, interval=0.005)
        wait_until(lambda: not Delivery.objects.filter(attempts=0).exists(), 120, interval=0.02)
        finished = time.monotonic()
        healthy = sorted(receivers.arrivals.values())
        succeeded = Delivery.objects.filter(state=Delivery.State.SUCCEEDED).count()
    finally:
        worker.stop()
        receivers.stop()
    last_healthy = (healthy[-1] - started) if healthy else float("nan")
    return {
        "healthy": len(healthy),
        "succeeded": succeeded,
        "last_healthy_s": last_healthy,
        "all_done_s": finished - started,
        "per_s": len(healthy) / last_healthy if healthy else 0.0,
    }


def latency_in_process(samples: int) -> list[float]:
    """Eager Celery: the send task runs inline right after the commit (no queue at all)."""
    receivers = Receivers(1)
    try:
        _partners(receivers.urls)
        port = receivers.servers[0].server_address[1]
        found = []
        for index in range(samples):
            receivers.arrivals.clear()
            started = _publish(f"Latency in-process {index}")
            found.append(receivers.arrivals[port] - started)
    finally:
        receivers.stop()
    return found


def latency_real_worker(stack: Stack, samples: int) -> list[float]:
    """Publish here; the real I/O worker (Redis broker) sends; time until it arrives."""
    from django.conf import settings

    from tests.services import wait_until

    receivers = Receivers(1)
    worker = stack.io_worker(settings.WEBHOOK_WORKER_CONCURRENCY)
    try:
        _partners(receivers.urls)
        port = receivers.servers[0].server_address[1]
        found = []
        for index in range(samples):
            receivers.arrivals.clear()
            started = _publish(f"Latency worker {index}")
            arrived = wait_until(lambda: receivers.arrivals.get(port), 30, interval=0.002)
            found.append(arrived - started)
        return found
    finally:
        worker.stop()
        receivers.stop()


def _fresh_broker_connections(app) -> None:
    """Forget pooled broker connections so sends go to the current ``broker_url``."""
    import kombu.pools

    kombu.pools.reset()
    app._after_fork()


def run() -> None:
    _setup_django()
    from django.conf import settings

    connection, old_name = _create_database()
    db_name = connection.settings_dict["NAME"]
    threads = settings.WEBHOOK_WORKER_CONCURRENCY
    try:
        in_process = latency_in_process(LATENCY_SAMPLES)
        with Stack(db_name) as stack:
            baseline = fan_out(stack, concurrency=1)
            concurrent = fan_out(stack, concurrency=threads)
            hanging = fan_out(stack, concurrency=threads, hanging=HANGING)
            worker = latency_real_worker(stack, LATENCY_SAMPLES)
        print(
            f"Fan-out of one publish to {PARTNERS} loopback partners, one send task each, "
            "through a real I/O worker (--pool threads) and Redis; times from the commit\n"
        )
        print_table(
            ["run", "delivered", "last delivery (s)", "deliveries/s", "ratio to baseline"],
            [
                ["baseline: 1 thread", baseline["healthy"], baseline["last_healthy_s"],
                 baseline["per_s"], 1.0],
                [f"{threads} threads (WEBHOOK_WORKER_CONCURRENCY)", concurrent["healthy"],
                 concurrent["last_healthy_s"], concurrent["per_s"],
                 baseline["last_healthy_s"] / concurrent["last_healthy_s"]],
            ],
        )  # fmt: skip
        print(
            f"\n{HANGING} of {PARTNERS} partners hang until the read timeout "
            f"({HANG_READ_TIMEOUT:.0f} s in this run; 15 s in production), {threads} threads\n"
        )
        print_table(
            ["healthy delivered", "last healthy at (s)", "target (s)", "all attempts done (s)"],
            [[hanging["healthy"], hanging["last_healthy_s"], 2.0, hanging["all_done_s"]]],
        )
        print(
            f"\nPublish-to-delivery latency (from the publish's commit to arrival at the "
            f"partner), one partner, {LATENCY_SAMPLES} publishes\n"
        )
        print_table(
            ["path", "p50 (s)", "p99 (s)", "p99 target (s)", "p99 ratio to baseline"],
            [
                ["baseline: in-process send on commit (eager)", percentile(in_process, 50),
                 percentile(in_process, 99), 1.0, 1.0],
                ["I/O worker + Redis", percentile(worker, 50), percentile(worker, 99), 1.0,
                 percentile(worker, 99) / percentile(in_process, 99)],
            ],
        )  # fmt: skip
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    run()
