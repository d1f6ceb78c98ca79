"""The one Celery app of the project (cookiecutter-django's layout).

Configuration comes from Django settings under the ``CELERY_`` namespace, so the
same settings module drives web, worker and beat.

Two kinds of worker consume it: the prefork worker (the default queue: publishes,
sweeps, pings) and the I/O worker (:func:`io_worker_options`), a thread pool on the
queue of webhook sends, where a partner that hangs costs one thread, not a process.
"""

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

app = Celery("cms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# One readable line per expected network failure of a task (cms/task_logs.py).
from cms import task_logs  # noqa: E402, F401


def io_worker_options(concurrency: int | None = None) -> list[str]:
    """``celery worker`` options of the I/O worker: only the send queue, many threads.

    ``make run`` and the test suite start it with these; docker-compose.yml spells the
    same line out (tests/test_ops_compose.py runs that line).
    """
    threads = concurrency or settings.WEBHOOK_WORKER_CONCURRENCY
    return ["-Q", settings.WEBHOOK_QUEUE, "--pool", "threads", "--concurrency", str(threads)]
