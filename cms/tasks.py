"""Celery tasks of the ``cms`` app."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError
from django.utils.module_loading import import_string
from django_tasks.base import Task

logger = logging.getLogger(__name__)

#: Idempotent index updates: acknowledged once done, retried on database trouble.
BACKGROUND = {
    "ignore_result": True,
    "acks_late": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 2,
    "max_retries": 3,
}


@shared_task(**BACKGROUND)
def run_background_task(module_path: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Run one django-tasks task (as sent before :func:`run_background_tasks`; kept for
    messages still queued from before an upgrade).

    Only a django-tasks ``Task`` is run, never an arbitrary callable named in a message.
    Wagtail's tasks (index updates, file deletion) are idempotent, so a redelivery is
    harmless.
    """
    _run(module_path, args, kwargs)


@shared_task(**BACKGROUND)
def run_background_tasks(calls: list[list[Any]]) -> None:
    """Run a transaction's django-tasks calls, ``[module_path, args, kwargs]`` each, sent
    as one message by :class:`cms.background.CeleryBackend`.

    One call that fails does not stop the others; a database error is raised once all
    were tried, so the retry repeats them all (they are idempotent).
    """
    failed: DatabaseError | None = None
    for module_path, args, kwargs in calls:
        try:
            _run(module_path, args, kwargs)
        except DatabaseError as exc:
            failed = exc
        except Exception:  # noqa: BLE001 - one bad call must not drop the index updates after it
            logger.exception("background task %s%r failed", module_path, tuple(args))
    if failed is not None:
        raise failed


def _run(module_path: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    task = import_string(module_path)
    if not isinstance(task, Task):
        raise TypeError(f"{module_path} is not a django-tasks task")
    try:
        task.call(*args, **kwargs)
    except ObjectDoesNotExist:
        # Deleted since (a save and a delete in one transaction, as the seed loader
        # does): the delete has already removed what this would have indexed.
        logger.debug("%s%r: the object is gone; nothing to do", module_path, tuple(args))
