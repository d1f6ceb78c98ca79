"""Celery tasks of the scheduler: thin wrappers over :mod:`publishing.scheduler.engine`.

Arguments are primary keys; every task re-reads the database and is idempotent, so a
duplicate delivery (Redis re-delivery, a re-armed wake-up, a retry) does nothing.
"""

import datetime as dt
import logging
from collections import defaultdict

from celery import shared_task
from celery.signals import worker_ready
from django.utils import timezone

from cms.celery import app
from publishing.scheduler import engine as scheduler
from publishing.scheduler import follow_up
from publishing.scheduler.retry import RETRY

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True, **RETRY)
def publish_scheduled_revision(revision_id: int) -> str:
    """Wake-up for one scheduled revision: publish it if it is still due."""
    return str(scheduler.publish_due_revision(revision_id))


@shared_task(ignore_result=True, acks_late=True, **RETRY)
def publish_scheduled_revisions(revision_ids: list[int]) -> dict[str, int]:
    """Wake-up for scheduled revisions due at one instant: publish those still due."""
    counts: dict[str, int] = {}
    for outcome in scheduler.publish_due_revisions(revision_ids).values():
        counts[str(outcome)] = counts.get(str(outcome), 0) + 1
    return counts


@shared_task(ignore_result=True, acks_late=True, **RETRY)
def expire_scheduled_object(content_type_id: int, object_id: str) -> str:
    """Wake-up for one expiry: unpublish the object if it is still live and due."""
    return str(scheduler.expire_due_object(content_type_id, object_id))


@shared_task(ignore_result=True, acks_late=True, **RETRY)
def lapse_review(label: str, page_id: int) -> str:
    """Wake-up for one review lapse (clinical governance): apply it if it is still due."""
    return str(scheduler.lapse_due_page(label, page_id))


@shared_task(ignore_result=True)
def scheduler_sweep() -> dict:
    """Beat's frequent tick: arm what is due soon, re-arm what was lost, record the tick."""
    return sweep()


def sweep(now=None) -> dict[str, int]:
    """Arm a wake-up task for each item due within the horizon (each once, across beats)."""
    now = now or timezone.now()
    eager = app.conf.task_always_eager
    candidates, wake_ups = scheduler.wake_ups_to_arm(now, only_due=eager)
    publishes: dict[dt.datetime | None, list[int]] = defaultdict(list)
    for wake_up in wake_ups:
        if wake_up.kind == "publish":
            publishes[wake_up.eta].append(wake_up.args[0])
        elif wake_up.kind == "lapse":
            lapse_review.apply_async(args=wake_up.args, eta=wake_up.eta)
        else:
            expire_scheduled_object.apply_async(args=wake_up.args, eta=wake_up.eta)
    size = scheduler.BATCH_SIZE
    for eta, revision_ids in publishes.items():
        # Publishes due together go in batches that every worker process can take one of.
        for start in range(0, len(revision_ids), size):
            batch = revision_ids[start : start + size]
            if len(batch) == 1:
                publish_scheduled_revision.apply_async(args=(batch[0],), eta=eta)
            else:
                publish_scheduled_revisions.apply_async(args=(batch,), eta=eta)
    lost = follow_up.stale(now)
    if lost and scheduler.claim_marker(
        f"{scheduler.MARKER_PREFIX}:follow-ups", follow_up.RETRY_AFTER
    ):
        # Their task died with a worker, never reached the broker, or failed: handed on
        # once per RETRY_AFTER.
        follow_up.finish_go_live_follow_ups.apply_async(args=(lost,))
    return {"candidates": candidates, "armed": len(wake_ups), "follow-ups": len(lost)}


def consumes_scheduled_work(consumer) -> bool:
    """Whether a starting worker takes the default queue (the scheduler's wake-ups); the
    I/O worker, on the webhook queue only, lost no ETA tasks when it restarted."""
    queues = getattr(getattr(consumer, "task_consumer", None), "queues", None)
    if not queues:
        return True  # unknown: reset, which only costs a re-arm
    default = consumer.app.conf.task_default_queue
    return any(queue.name == default for queue in queues)


@worker_ready.connect
def _rearm_after_worker_start(sender=None, **kwargs) -> None:
    """A (re)started worker holds no ETA tasks: let the next sweep re-arm what is due soon."""
    if sender is not None and not consumes_scheduled_work(sender):
        return
    try:
        dropped = scheduler.forget_armed()
    except Exception:  # noqa: BLE001 - the markers also expire on their own
        logger.exception("could not reset the scheduler's armed markers")
        return
    logger.info("worker ready: %d armed scheduler markers reset", dropped)
