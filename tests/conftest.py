"""Shared fixtures: seed content, and the real broker, worker and beat of the service suite."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import kombu.pools
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from tests import services
from tests.services import (
    ARTIFACTS,
    CeleryProcess,
    EmbeddedRedis,
    close_context,
    redis_client,
    skip_or_fail,
)
from tests.snapshot import Recording, all_rows, put_back

# Playwright's sync API keeps an event loop running in the test thread; Django's ORM
# would otherwise refuse to run there. Test-only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# --- One migrated test database, copied for each parallel process -----------------------
# Migrating takes 25 s of CPU alone and minutes when every xdist process does it at once on
# a busy 2-core machine. Under xdist the controller migrates once, copies the database for
# each process (Django's own clone: a file copy on SQLite, CREATE DATABASE ... TEMPLATE on
# PostgreSQL), and each process adopts its copy instead of migrating; it still drops it
# at the end as pytest-django would.


def _template_database(config: pytest.Config):
    """The controller's migrated test database, made on first use (blocking node start)."""
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    if not hasattr(config, "_test_db_template"):
        with config.stash[blocking_manager_key].unblock():
            old_name = connection.settings_dict["NAME"]
            connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
            connection.close()  # SQLite: writes the WAL back; PostgreSQL: frees the template
        config._test_db_template = old_name
    return connection


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist controller: hand each process its own copy of the migrated test database."""
    from pytest_django.plugin import blocking_manager_key

    connection = _template_database(node.config)
    suffix = node.gateway.id
    with node.config.stash[blocking_manager_key].unblock():
        connection.creation.clone_test_db(suffix=suffix, verbosity=0)
    node.workerinput["test_database"] = connection.creation.get_test_db_clone_settings(suffix)[
        "NAME"
    ]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """xdist controller: drop the migrated database the copies were made from."""
    old_name = getattr(session.config, "_test_db_template", None)
    if old_name is None:
        return
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    with session.config.stash[blocking_manager_key].unblock():
        connection.creation.destroy_test_db(old_name, verbosity=0)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request) -> None:
    """In an xdist process, use the copy the controller made instead of migrating anew."""
    name = getattr(request.config, "workerinput", {}).get("test_database")
    if not name:
        return
    from django.db import connection

    def adopt(verbosity=1, autoclobber=False, serialize=True, keepdb=False) -> str:
        connection.close()
        django_settings.DATABASES[connection.alias]["NAME"] = name
        connection.settings_dict["NAME"] = name
        if serialize:
            connection._test_serialized_contents = connection.creation.serialize_db_to_string()
        return name

    connection.creation.create_test_db = adopt


def _database_kind(item: pytest.Item) -> int:
    """pytest-django's order: 0 rolled-back database, 1 transactional (flushed after), 2 none."""
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return 1
    if fixtures & {"transactional_db", "live_server"}:
        return 1
    return 0 if marker or "db" in fixtures else 2


def _expected_length(item: pytest.Item) -> int:
    """Longest first: a browser with real processes, then real processes, then the rest."""
    return 2 * bool(item.get_closest_marker("browser")) + bool(item.get_closest_marker("services"))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spread the long real-process tests through the run, longest first.

    pytest-django puts transactional tests (which include every real-process test) after
    the rolled-back ones, because their flush empties the rows migrations wrote. Here the
    migrated rows are put back after such a test instead (:func:`pytest_runtest_setup`),
    so the order is free: xdist hands tests out in this order, one at a time
    (``--maxschedchunk 1``), and a real-process test comes every few light ones, so the
    parallel processes are not all starting workers and browsers at once at the end.
    """
    ordered = sorted(items, key=lambda item: -_expected_length(item))
    heavy = [item for item in ordered if _expected_length(item)]
    light = [item for item in ordered if not _expected_length(item)]
    # The heavy tests start within the first SPREAD of the run, so none is left at its end.
    spread = 0.7
    step = max(1, int(len(light) * spread / max(1, len(heavy))))
    merged: list[pytest.Item] = []
    for index, item in enumerate(heavy):
        merged.extend(light[index * step : (index + 1) * step])
        merged.append(item)
    merged.extend(light[len(heavy) * step :])
    items[:] = merged


# --- Migrated rows back after a transactional test --------------------------------------


#: What migrations wrote, taken once per test process (tests/snapshot.py).
_migrated_rows: list = []


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Keep what migrations wrote, to put back after a transactional test's flush."""
    with django_db_blocker.unblock():
        if not _migrated_rows:
            _migrated_rows.extend(all_rows())


_flushed = False  # a transactional test ran in this process since the rows were put back


def _restore_migrated_rows(config: pytest.Config) -> None:
    """Empty the tables as pytest-django does, then put the migrated rows back.

    Raw SQL, not Django's deserializer: that saves through the models, and their signals
    would run the publish pipeline for rows that did not change.
    """
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from pytest_django.plugin import blocking_manager_key

    with config.stash[blocking_manager_key].unblock():
        call_command(
            "flush",
            verbosity=0,
            interactive=False,
            database="default",
            reset_sequences=False,  # the rows go back with their ids; new ones follow
            inhibit_post_migrate=True,  # its content types and permissions have new ids
        )
        with transaction.atomic():
            put_back(_migrated_rows)
    # The flush's post_migrate cached content types with new ids: forget them, and read
    # the restored ones back, so the next test starts with the cache as warm as before.
    ContentType.objects.clear_cache()
    with config.stash[blocking_manager_key].unblock():
        ContentType.objects.get_for_models(*apps.get_models(), for_concrete_models=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a rolled-back test, undo an earlier transactional test's flush."""
    global _flushed
    kind = _database_kind(item)
    if kind == 0 and _flushed:
        _restore_migrated_rows(item.config)
        _flushed = False
    elif kind == 1:
        _flushed = True


# --- At most a few real-process tests at once ------------------------------------------
# Tests that start workers, beats, gunicorn or Chromium cost seconds of CPU each; with
# every parallel process in one at once (as when they all came last), start-ups took
# 18 s and on-time figures slipped. The order above spreads them; where they still
# bunch, a test of that kind waits for one of TEST_HEAVY_AT_ONCE slots (default 3; lock
# files shared by the run's processes) for its setup, call and teardown.
HEAVY_AT_ONCE = int(os.environ.get("TEST_HEAVY_AT_ONCE", "3"))


def _heavy_slot(item: pytest.Item):
    """Block until one of the run's heavy-test slots is free; return its open lock file."""
    import fcntl
    import tempfile
    import time

    run = getattr(item.config, "workerinput", {}).get("testrunuid")
    if not run or HEAVY_AT_ONCE <= 0 or not _expected_length(item):
        return None
    slots = Path(tempfile.gettempdir()) / f"cms-tests-{run}"
    slots.mkdir(exist_ok=True)
    while True:
        for number in range(HEAVY_AT_ONCE):
            handle = open(slots / f"heavy-{number}.lock", "w")  # noqa: SIM115 - held past return
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return handle
        time.sleep(0.2)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    """Run a real-process test only while it holds a heavy-test slot (released on exit)."""
    slot = _heavy_slot(item)
    try:
        yield
    finally:
        if slot is not None:
            slot.close()  # closing the file releases its lock


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


@pytest.fixture(autouse=True)
def _publish_gate(request, settings):
    """The clinical-review gate (cms/publish_gate.py) is on only in tests marked
    ``clinical_gate``: most tests publish screener pages in code to test other things, and
    would otherwise have to run a clinical review first. The governance tests turn it on."""
    settings.PUBLISH_GATE_ENFORCED = request.node.get_closest_marker("clinical_gate") is not None


# What the seed loader wrote, recorded once per test process (tests/snapshot.py).
_seed_recording: list[Recording] = []


def _load_seed() -> None:
    call_command("load_seed_content", stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture
def seed(request, db):
    """The customer's seed site, loaded by the real command.

    In a rolled-back test, the rows the command wrote the first time in this process are
    written again instead (about a second less per test; tests/snapshot.py). Transactional
    tests, whose commits run the after-commit pipeline, always run the command;
    TEST_SEED_SNAPSHOT=0 makes every test run it.
    """
    from cms.models import BlogIndexPage, BlogPostPage, EventIndexPage, HomePage

    if _database_kind(request.node) != 0 or os.environ.get("TEST_SEED_SNAPSHOT") == "0":
        _load_seed()
    elif _seed_recording and _seed_recording[0].matches():
        _seed_recording[0].replay()
    elif _seed_recording:
        _load_seed()  # this test changed the tables first: the recording does not apply
    else:
        recording = Recording.record(_load_seed)
        if recording is not None:
            _seed_recording.append(recording)
    return {
        "home": HomePage.objects.get(),
        "blog": BlogIndexPage.objects.get(),
        "post": BlogPostPage.objects.get(),
        "events": EventIndexPage.objects.get(),
    }


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory) -> str:
    """A real Redis: the one named by REDIS_URL, or the embedded binary `make run` uses."""
    if os.environ.get("REDIS_URL", ""):
        # A database of its own per test process, flushed per test (cms/settings/test.py).
        url = django_settings.TEST_BROKER_URL
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
    """Start workers and beat on demand; every one is stopped at the end of the test.

    "worker" is the prefork worker; as in ``make run`` and compose, the webhook I/O worker
    ("worker-io") runs beside it: started with it (in parallel) unless one is running.
    Start "worker-io" yourself first to hold it (e.g. to kill it).
    """
    started: list[CeleryProcess] = []

    def running_io_worker() -> bool:
        return any(p.kind == "worker-io" and p.process.poll() is None for p in started)

    def start(kind: str = "worker", *extra: str, ready: bool = True) -> CeleryProcess:
        companion = None
        if kind == "worker" and not extra:
            extra = ("--concurrency", "2")
        if kind == "worker" and not running_io_worker():
            companion = CeleryProcess("worker-io", celery_env, tmp_path).start()
            started.append(companion)
        process = CeleryProcess(kind, celery_env, tmp_path, *extra).start()
        started.append(process)
        if ready:
            process.wait_ready()
            if companion is not None:
                companion.wait_ready()
        return process

    yield start
    for process in started:
        # The test is over: nothing it checks depends on a graceful shutdown, which waits
        # for held ETA tasks (seconds per process); the next test flushes the broker.
        process.kill9()
        process.stop()  # closes the log


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
def _chromium(chromium_path):
    """This process's Playwright, and a launcher for its one headless Debian Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = []

        def current():
            # A Chromium that close_context() had to kill is replaced, not reused.
            if not launched or not launched[-1].is_connected():
                launched.append(
                    playwright.chromium.launch(
                        executable_path=chromium_path,
                        headless=True,
                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                    )
                )
            return launched[-1]

        yield current
        if launched and launched[-1].is_connected():
            launched[-1].close()


@pytest.fixture
def browser(_chromium):
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    from django.core.signals import request_started

    request_started.connect(services.record_request, dispatch_uid="tests.record_request")
    return _chromium()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """A failed browser test's report says what its pages showed (tests.services
    .describe_pages): those its ``finally:`` closed, and those it left open."""
    report = yield
    if report.when != "call":
        return report
    notes = services.failure_notes[:]
    services.failure_notes.clear()
    if report.failed and "browser" in item.fixturenames:
        browser = item.funcargs.get("browser")
        try:
            if browser is not None and browser.is_connected():
                pages = [page for context in browser.contexts for page in context.pages]
                if pages:
                    notes.append(services.describe_pages(pages, item.nodeid))
        except Exception as exc:  # noqa: BLE001 - the report of the failure comes first
            notes.append(f"the open pages could not be described: {exc!r}\n")
        if notes:
            notes.append(services.describe_recent_requests())
            report.sections.append(("what the browser showed", "".join(notes)))
    return report


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    yield page
    close_context(context)
