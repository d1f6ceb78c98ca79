"""Test settings: fast hashing, no real mail, Celery eager unless a test runs a worker."""

import os

from .base import *  # noqa: F403
from .base import LOGGING, REDIS_URL, env, env_bool, redis_db_url

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105 - test settings only
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# In-process tests run tasks inline; the service suite starts a real worker and turns
# this off for the code under test.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", "http://testserver")
WAGTAILAPI_BASE_URL = WAGTAILADMIN_BASE_URL
# In-process tests run Wagtail's background work inline (their transactions never
# commit); processes of a real stack (worker, beat, benchmark) keep base's Celery backend.
if CELERY_TASK_ALWAYS_EAGER:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# --- Parallel test processes (pytest-xdist) ------------------------------------------
# `make test` runs the suite in several pytest processes ("gw0", "gw1", ...). Whatever they
# could share is given one per process here, from the variables xdist sets; worker, beat
# and gunicorn subprocesses inherit the same variables, so they derive the same values.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
XDIST_WORKER_INDEX = int(XDIST_WORKER.removeprefix("gw") or 0)
XDIST_WORKER_COUNT = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "") or 1)
# Uploaded images and documents: never the checkout's own media/ (that is `make run`'s).
MEDIA_ROOT = RUN_DIR / "test-media" / (XDIST_WORKER or "main")  # noqa: F405


def redis_db_of(url: str) -> int:
    """The database number a redis:// or unix-socket URL names (0 when it names none)."""
    if "db=" in url:
        return int(url.split("db=", 1)[1].split("&", 1)[0])
    path = url.split("://", 1)[1].split("?", 1)[0]
    tail = path.rsplit("/", 1)[1] if "/" in path else ""
    return int(tail) if tail.isdigit() else 0


if REDIS_URL:
    # One Redis, one cache database and one broker database per test process: tests
    # clear the cache (FLUSHDB) and the broker, which would wipe another process's keys.
    # Process N takes the base number + N: the cache's base is REDIS_CACHE_URL's database
    # (else REDIS_URL's + 1), the broker's is TEST_REDIS_DB (else 8).
    _cache_base = redis_db_of(CACHES["default"]["LOCATION"])  # noqa: F405
    _broker_base = int(env("TEST_REDIS_DB", "8"))
    _cache_dbs = range(_cache_base, _cache_base + XDIST_WORKER_COUNT)
    _broker_dbs = range(_broker_base, _broker_base + XDIST_WORKER_COUNT)
    # Redis's default `databases`; a server started with more may set TEST_REDIS_DATABASES.
    _databases = int(env("TEST_REDIS_DATABASES", "16"))
    if set(_cache_dbs) & set(_broker_dbs) or max(*_cache_dbs, *_broker_dbs) >= _databases:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"{XDIST_WORKER_COUNT} test processes need Redis databases {list(_cache_dbs)} "
            f"(cache) and {list(_broker_dbs)} (broker), distinct and below {_databases}: "
            "choose REDIS_CACHE_URL's database and TEST_REDIS_DB so they fit, or run fewer "
            "processes (PYTEST_ARGS=-n2)."
        )
    CACHES["default"]["LOCATION"] = redis_db_url(  # noqa: F405
        CACHES["default"]["LOCATION"],  # noqa: F405
        _cache_base + XDIST_WORKER_INDEX,
    )
    # The real broker the service suite's worker and beat use (tests/conftest.py).
    TEST_BROKER_URL = redis_db_url(REDIS_URL, _broker_base + XDIST_WORKER_INDEX)

# Worker and beat subprocesses in the service suite open the same test database, so on
# SQLite it must be a file, not pytest-django's default in-memory database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    RUN_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
    # One file per test process, so two runs on one checkout never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(RUN_DIR / f"test-db-{os.getpid()}.sqlite3")}  # noqa: F405
LOGGING["loggers"]["wagtail"]["level"] = "WARNING"
