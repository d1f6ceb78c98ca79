"""Celery tasks for partner webhooks. Thin: ids in, the database decides what is due.

One task per delivery (:func:`send_delivery`), routed to the I/O worker's queue
(``settings.WEBHOOK_QUEUE``; a ``--pool threads`` worker, ``cms.celery.io_worker_options``),
so a partner that hangs holds one of its threads, never a prefork slot that publishes
need. Retries are not Celery retries: each failed attempt writes its next due time to the
delivery row, and the sweeper (beat, every few seconds, on the prefork worker) queues one
task per delivery that is due. So a lost message, a killed worker or an emptied Redis
delays a delivery, never drops it.
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


@shared_task(ignore_result=True, acks_late=True, max_retries=0)
def send_delivery(delivery_id: int) -> str | None:
    """Send this delivery now if still due; a duplicate message finds it leased and stops."""
    return delivery.send(delivery_id)


def dispatch(delivery_ids: list[int]) -> int:
    """Hold the due deliveries for the queue and queue one task each; how many were queued.

    Call it after the rows are committed (callers use ``transaction.on_commit``): a task
    must find them. A message that cannot be queued (broker down) gives its delivery back
    to the sweeper at once; one lost later is sent again once its hold runs out
    (``WEBHOOK_LEASE_SECONDS``), when the message expires too, as stale.
    """
    held = delivery.hold(delivery_ids)
    for index, delivery_id in enumerate(held):
        try:
            send_delivery.apply_async((delivery_id,), expires=settings.WEBHOOK_LEASE_SECONDS)
        except Exception:  # noqa: BLE001 - the outbox rows are safe; never fail the caller
            unsent = held[index:]
            logger.exception("Could not queue deliveries %s; the sweeper will send them", unsent)
            delivery.unhold(unsent)
            return index
    return len(held)


@shared_task(ignore_result=True, acks_late=True, max_retries=0)
def sweep_deliveries() -> int:
    """Queue a send for every delivery that is due and neither queued nor being sent."""
    return dispatch(delivery.due_ids(SWEEP_BATCH))


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
