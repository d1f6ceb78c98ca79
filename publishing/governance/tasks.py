"""Celery task of clinical governance: beat's review-lapse sweep (idempotent)."""

from celery import shared_task

from publishing.governance import lapse


@shared_task(ignore_result=True)
def review_lapse_sweep() -> int:
    """Apply every review lapse due now; a duplicate run finds nothing left to do."""
    return lapse.apply_due_lapses()
