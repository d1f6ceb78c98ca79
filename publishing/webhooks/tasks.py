"""Celery tasks for partner webhooks. Thin: ids in, the database decides what is due.

Retries are not Celery retries: each failed attempt writes its next due time to the
delivery row, and the sweeper (beat, every few seconds) sends whatever is due. So a lost
message, a killed worker or an emptied Redis delays a delivery, never drops it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from publishing.models import Delivery
from publishing.webhooks import changes, delivery

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200


def _wait(task) -> float | None:
    """How long a task waits for partners' answers before leaving the rest to a thread.

    In a worker, briefly: the pool slot is free again for publishes and other partners.
    Run in-process (eagerly, or called as a function), until every attempt has ended, as
    callers there expect.
    """
    in_process = task.request.is_eager or task.request.called_directly
    return None if in_process else settings.WEBHOOK_TASK_WAIT_SECONDS


@shared_task(bind=True, ignore_result=True, acks_late=True, max_retries=0)
def send_deliveries(self, delivery_ids: list[int]) -> None:
    """Send these deliveries now if still due; idempotent thanks to the lease."""
    delivery.deliver(delivery_ids, wait=_wait(self))


@shared_task(bind=True, ignore_result=True, acks_late=True, max_retries=0)
def sweep_deliveries(self) -> int:
    """Send every delivery that is due and not held by a live sender."""
    ids = delivery.due_ids(SWEEP_BATCH)
    if ids:
        delivery.deliver(ids, wait=_wait(self))
    return len(ids)


@shared_task(ignore_result=True, max_retries=0)
def prune_delivery_log() -> int:
    """Drop finished deliveries (and their attempts) older than the retention period."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    deleted, _detail = Delivery.objects.filter(
        state__in=[Delivery.State.SUCCEEDED, Delivery.State.DEAD], created_at__lt=cutoff
    ).delete()
    # [changes feed] Events are the feed's tombstones too: kept for its retention at least,
    # and dropped only as a prefix of their seq (see changes.prune).
    days = max(settings.WEBHOOK_LOG_RETENTION_DAYS, settings.CHANGES_FEED_RETENTION_DAYS)
    changes.prune(timezone.now() - timedelta(days=days))
    logger.info("Pruned %d webhook log rows older than %s", deleted, cutoff)
    return deleted
