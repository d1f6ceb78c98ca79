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


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    max_retries=3,
)
def run_background_task(module_path: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Run one django-tasks task sent by :class:`cms.background.CeleryBackend`.

    Only a django-tasks ``Task`` is run, never an arbitrary callable named in a message.
    Wagtail's tasks (index updates, file deletion) are idempotent, so a redelivery is
    harmless.
    """
    task = import_string(module_path)
    if not isinstance(task, Task):
        raise TypeError(f"{module_path} is not a django-tasks task")
    try:
        task.call(*args, **kwargs)
    except ObjectDoesNotExist:
        # Deleted since (a save and a delete in one transaction, as the seed loader
        # does): the delete has already removed what this would have indexed.
        logger.debug("%s%r: the object is gone; nothing to do", module_path, tuple(args))
