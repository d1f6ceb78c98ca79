"""Celery tasks of the publishing app. Thin: primitive arguments, idempotent."""

import time

from celery import shared_task
from django.core.cache import cache

from cms.views import BEAT_TICK_CACHE_KEY
from publishing.websub import ping_hub  # noqa: F401 - WebSub hub pings


@shared_task(ignore_result=True)
def beat_tick() -> None:
    """Record that beat is alive, so /healthz can report the age of its last tick."""
    cache.set(BEAT_TICK_CACHE_KEY, time.time(), timeout=None)


# The scheduler's tasks live in their own module; importing registers them.
from publishing.scheduler_tasks import (  # noqa: E402, F401
    expire_scheduled_object,
    publish_scheduled_revision,
    scheduler_sweep,
)

# Partner webhooks live in their own module; importing registers them with Celery.
from publishing.webhooks.tasks import (  # noqa: E402, F401
    prune_delivery_log,
    send_deliveries,
    sweep_deliveries,
)
