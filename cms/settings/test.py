"""Test settings: fast hashing, no real mail, Celery eager unless a test runs a worker."""

import os

from .base import *  # noqa: F403
from .base import LOGGING, env, env_bool

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
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Worker and beat subprocesses in the service suite open the same test database, so on
# SQLite it must be a file, not pytest-django's default in-memory database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    RUN_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
    # One file per test process, so two runs on one checkout never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(RUN_DIR / f"test-db-{os.getpid()}.sqlite3")}  # noqa: F405
LOGGING["loggers"]["wagtail"]["level"] = "WARNING"
