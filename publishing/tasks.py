"""Celery's entry point to the publishing app (``autodiscover_tasks`` imports it).

Each sub-package keeps its tasks in its own ``tasks.py``; importing them here registers
them with the worker.
"""

import time

from celery import shared_task
from django.core.cache import cache

from cms.health import BEAT_TICK_CACHE_KEY
from publishing.pipeline.tasks import sweep_purges  # noqa: F401
from publishing.scheduler.tasks import (  # noqa: F401
    expire_scheduled_object,
    lapse_review,
    publish_scheduled_revision,
    scheduler_sweep,
)
from publishing.syndication.websub import ping_hub  # noqa: F401
from publishing.webhooks.tasks import (  # noqa: F401
    prune_delivery_log,
    send_deliveries,
    sweep_deliveries,
)


@shared_task(ignore_result=True)
def beat_tick() -> None:
    """Record that beat is alive, so /healthz can report the age of its last tick."""
    cache.set(BEAT_TICK_CACHE_KEY, time.time(), timeout=None)
