"""Celery tasks of the pipeline: retrying a CDN purge that failed after commit.

The ``CdnPurge`` row is the source of truth and the beat sweep retries whatever is due
(every two seconds), so nothing depends on a message reaching a worker.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from publishing.models import CdnPurge
from publishing.pipeline import steps

SWEEP_BATCH = 20


def _retry_due(record_id: int) -> bool:
    with transaction.atomic():
        record = (
            CdnPurge.objects.select_for_update(skip_locked=True)
            .filter(
                pk=record_id,
                state=CdnPurge.State.RETRYING,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if record is None:
            return False
        steps.retry(record)
    return True


@shared_task(ignore_result=True, max_retries=0)
def sweep_purges() -> int:
    """Retry every purge that is due (beat), whatever happened to its hint."""
    due = CdnPurge.objects.filter(
        state=CdnPurge.State.RETRYING, next_attempt_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:SWEEP_BATCH]
    return sum(_retry_due(pk) for pk in list(due))
