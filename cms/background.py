"""Wagtail's background work (django-tasks) as Celery tasks, sent after commit.

Wagtail 8 hands the work that follows a save and that no reader waits for (reference
index, search index, deleting replaced files) to django-tasks. django-tasks' immediate
backend runs it inside the saving transaction, which for a scheduled burst means inside
the row locks, before the page is live. This backend sends a transaction's tasks to the
project's one Celery app as one message once it commits (``cms.transactions.batch``), so
the page is live first and a worker process does the rest; a burst of scheduled
publishes sends one message per batch, not three per page. A rolled-back save sends
nothing. Configured by ``TASKS`` in
the settings; Celery's eager mode (in-process tests) runs the task at commit, inline.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.exceptions import InvalidTaskError
from django_tasks.utils import get_random_id

from cms import transactions

logger = logging.getLogger(__name__)


class CeleryBackend(BaseTaskBackend):
    """Enqueue on commit to Celery; results are not kept (nobody reads them)."""

    supports_priority = True  # accepted, not honoured: Wagtail's tasks all use the default

    def validate_task(self, task: Task) -> None:
        super().validate_task(task)
        if task.takes_context:
            raise InvalidTaskError("The Celery backend does not pass a task context.")

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )

        # A burst of scheduled publishes sends one message per batch, not three per page.
        transactions.append(_BATCH, _send, [task.module_path, result.args, result.kwargs])
        return result


_BATCH = "cms.background"


#: After the broker refused a task, run tasks here until this monotonic time: trying the
#: broker again for each of a thousand saves (``load_seed_content``) would take minutes.
_broker_down_until = 0.0
BROKER_RETRY_AFTER = 30.0


def _send(calls: list[list]) -> None:
    """To the broker; when none is reachable (``manage.py`` before the stack starts,
    a Redis outage), run them here instead, so no index update is ever dropped."""
    global _broker_down_until
    from cms.tasks import run_background_tasks

    if time.monotonic() >= _broker_down_until and _broker_may_be_up():
        try:
            run_background_tasks.apply_async((calls,), retry=False)
            return
        except Exception:  # noqa: BLE001 - kombu raises several kinds for a broker that is down
            _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER
            logger.info("broker unreachable: running background tasks in this process for now")
    run_background_tasks(calls)


def _broker_may_be_up() -> bool:
    """False when the embedded broker's socket does not exist (the stack is not running):
    saves a connection attempt that takes seconds to fail."""
    from cms.celery import app

    url = app.conf.broker_url or ""
    if url.startswith(("redis+socket://", "unix://")):
        return os.path.exists(url.split("://", 1)[1].split("?", 1)[0])
    return True
