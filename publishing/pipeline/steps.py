"""The three steps after a change commits, in this order, each once.

1. :func:`invalidate_own_caches`: the response cache's generation (once per
   transaction) and, if feeds changed, the feed cache's.
2. :func:`purge_cdn`: the affected URLs (read now, for all the change's pages at once:
   ``Change.read_page_urls``) through ``wagtail.contrib.frontend_cache``.
3. :func:`notify`: the changes feed's new events numbered (``changes.stamp``), WebSub
   pings, and the webhook outbox rows written in the transaction.

A failed purge keeps step 3 waiting: the change is saved as a :class:`CdnPurge` row
that the beat sweep (:mod:`publishing.pipeline.tasks`) retries, and the notifications go out when a
purge succeeds, or after ``FRONTEND_CACHE_MAX_WAIT_SECONDS`` at the latest (the
deliveries were written held until then, so even a lost retry cannot keep them back
for longer). So a partner told of a change never fetches the CDN's older copy, unless
the CDN stays broken past that bound, which /healthz and the dashboard then show.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cms.response_cache import invalidate_pending
from publishing.models import CdnPurge, Delivery
from publishing.pipeline import purge
from publishing.pipeline.change import Change
from publishing.syndication.cache import invalidate_feeds
from publishing.syndication.websub import enqueue_pings, topic_urls
from publishing.webhooks import changes, events

logger = logging.getLogger(__name__)

#: Seconds between purge retries, by attempt (the last repeats).
RETRY_DELAYS = [2, 5, 15, 30, 60]


def run(change: Change) -> None:
    """Called once after the transaction commits (``Change.flush``)."""
    invalidate_own_caches(change)
    change.read_page_urls()
    if not change:
        return
    topics = topic_urls(change.feed_keys) if change.feed_keys else []
    urls = sorted(change.urls | set(topics))
    error = purge_cdn(urls)
    if error is None:
        notify(topics, change.delivery_ids)
    else:
        wait_for_purge(urls, topics, change.delivery_ids, error)


def invalidate_own_caches(change: Change) -> None:
    """Step 1: nothing we serve ourselves may be older than the commit."""
    invalidate_pending()
    if change.feed_keys or change.all_feeds:
        try:
            invalidate_feeds()
        except Exception:  # noqa: BLE001 - a cache outage must never fail a publish
            logger.warning("could not invalidate the feed cache", exc_info=True)


def purge_cdn(urls: list[str]) -> str | None:
    """Step 2: purge the CDN. Returns why it failed (the caller holds notifications), or None."""
    try:
        purge.purge(urls)
    except purge.PurgeFailed as exc:
        logger.warning("CDN purge failed (%s); notifications wait for a retry", exc)
        return str(exc)[:300]
    return None


def notify(topics: list[str], delivery_ids: list[int]) -> None:
    """Step 3: the changes feed, WebSub pings, and the held webhook deliveries released."""
    try:
        changes.stamp()
    except Exception:  # noqa: BLE001 - readers stamp settled rows themselves; never fail here
        logger.warning("could not number the changes feed's new events", exc_info=True)
    if topics:
        enqueue_pings(topics)
    if delivery_ids:
        Delivery.objects.filter(
            pk__in=delivery_ids, state=Delivery.State.PENDING, attempts=0
        ).update(next_attempt_at=timezone.now())
        events.enqueue(delivery_ids)


def hold_until() -> timezone.datetime:
    """When a new delivery may be sent at the latest if the CDN purge keeps failing."""
    wait = settings.FRONTEND_CACHE_MAX_WAIT_SECONDS if purge.configured() else 0
    return timezone.now() + timedelta(seconds=wait)


def wait_for_purge(urls: list[str], topics: list[str], delivery_ids: list[int], error: str) -> None:
    """Record the failed purge; the beat sweep (``tasks.sweep_purges``) retries it."""
    CdnPurge.objects.create(
        urls=urls,
        topics=topics,
        delivery_ids=delivery_ids,
        attempts=1,
        last_error=error,
        next_attempt_at=timezone.now() + timedelta(seconds=RETRY_DELAYS[0]),
    )


def retry(record: CdnPurge) -> None:
    """One more purge attempt for ``record`` (locked by the caller's transaction).

    Notifies, after that transaction commits, on success or once the wait is over.
    """
    now = timezone.now()
    error = purge_cdn(record.urls)
    if error is None:
        record.state = CdnPurge.State.PURGED
    elif now - record.created_at >= timedelta(seconds=settings.FRONTEND_CACHE_MAX_WAIT_SECONDS):
        logger.error("CDN purge %s still failing; notifying partners anyway", record.pk)
        record.state = CdnPurge.State.GAVE_UP
    else:
        delay = RETRY_DELAYS[min(record.attempts, len(RETRY_DELAYS) - 1)]
        record.attempts += 1
        record.next_attempt_at = now + timedelta(seconds=delay)
        record.last_error = error
        record.save(update_fields=["attempts", "next_attempt_at", "last_error"])
        return
    record.attempts += 1
    record.finished_at = now
    record.save(update_fields=["state", "attempts", "finished_at"])
    transaction.on_commit(partial(notify, record.topics, record.delivery_ids), robust=True)
