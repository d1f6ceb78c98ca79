"""Shared fixtures: seed content, and the real broker, worker and beat of the service suite."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import kombu.pools
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from tests.services import ROOT, CeleryProcess, EmbeddedRedis, redis_client, skip_or_fail

ARTIFACTS = ROOT / "test-artifacts"
# Playwright's sync API keeps an event loop running in the test thread; Django's ORM
# would otherwise refuse to run there. Test-only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """Each test starts with an empty cache (it may live in the database)."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(
        request.fixturenames
    )
    if not uses_db:
        yield
        return
    request.getfixturevalue(
        "transactional_db" if "transactional_db" in request.fixturenames else "db"
    )
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def seed(db):
    """The customer's seed site, loaded by the real command."""
    from cms.models import BlogIndexPage, BlogPostPage, EventIndexPage, HomePage

    call_command("load_seed_content", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {
        "home": HomePage.objects.get(),
        "blog": BlogIndexPage.objects.get(),
        "post": BlogPostPage.objects.get(),
        "events": EventIndexPage.objects.get(),
    }


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory) -> str:
    """A real Redis: the one named by REDIS_URL, or the embedded binary `make run` uses."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        from cms.settings.base import redis_db_url

        # A database of its own, flushed per test (TEST_REDIS_DB lets parallel runs differ).
        url = redis_db_url(url, int(os.environ.get("TEST_REDIS_DB", "14")))
        try:
            redis_client(url).ping()
        except Exception as exc:  # noqa: BLE001
            skip_or_fail(f"Redis at REDIS_URL is not reachable: {exc}")
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001
        skip_or_fail(f"embedded redis-server could not start: {exc}")
    yield server.url
    server.stop()


@pytest.fixture
def live_db_url(transactional_db) -> str:
    """A DATABASE_URL for subprocesses that points at this test run's database."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    if connection.vendor == "postgresql":
        user = settings_dict.get("USER") or ""
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        auth = f"{user}{password}@" if user else ""
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"
    pytest.skip(f"no subprocess support for {connection.vendor}")


@pytest.fixture
def real_broker(broker_url, settings):
    """Send tasks from this process to the real broker instead of running them inline."""
    from cms.celery import app

    redis_client(broker_url).flushdb()
    old = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = broker_url
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _drop_broker_connections(app)
    yield app
    app.conf.broker_url, app.conf.task_always_eager = old
    _drop_broker_connections(app)


def _drop_broker_connections(app) -> None:
    """Forget pooled connections so the next send connects to the current broker_url.

    Celery does exactly this in a forked child (``_after_fork``); it has no public call.
    kombu keeps its pools in a process-wide registry keyed by URL, so that registry is
    reset too: otherwise the next test with the same broker URL gets the closed pool
    back ("Acquire on closed pool").
    """
    if app._pool is not None:
        app._pool.force_close_all()
    kombu.pools.reset()
    app._after_fork()
    # kombu keeps producer pools per broker URL process-wide; a pool over the connections
    # just closed would fail the next test's send with "Acquire on closed pool".
    kombu.pools.reset()


@pytest.fixture
def celery_env(live_db_url, broker_url, tmp_path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "DATABASE_URL": live_db_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
    }
    return env


@pytest.fixture
def celery_processes(celery_env, tmp_path, real_broker):
    """Start workers and beat on demand; every one is stopped at the end of the test."""
    started: list[CeleryProcess] = []

    def start(kind: str = "worker", *extra: str, ready: bool = True) -> CeleryProcess:
        if kind == "worker" and not extra:
            extra = ("--concurrency", "2")
        process = CeleryProcess(kind, celery_env, tmp_path, *extra).start()
        started.append(process)
        if ready:
            process.wait_ready()
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def celery_worker(celery_processes) -> CeleryProcess:
    return celery_processes("worker")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser(chromium_path):
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    yield page
    context.close()
