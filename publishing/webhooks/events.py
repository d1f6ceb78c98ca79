"""Turning page changes into webhook events and outbox rows.

Called from the signal handlers inside the publishing transaction, so the outbox rows
commit (or roll back) with the publish itself. Sending is only *hinted* to Celery after
commit; the sweeper finds anything whose hint was lost.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone
from wagtail.models import Page

from cms import visibility
from cms.content import page_content
from publishing.models import Delivery, Partner, WebhookEvent, WebhookPageState
from publishing.webhooks import changes

logger = logging.getLogger(__name__)


def page_tags(page: Page) -> list[str]:
    tags = getattr(page, "tags", None)
    return [tag.name for tag in tags.all()] if tags is not None else []


def _lock_state(page_id: int) -> WebhookPageState:
    WebhookPageState.objects.get_or_create(page_id=page_id)
    return WebhookPageState.objects.select_for_update().get(page_id=page_id)


def page_went_live(page: Page) -> WebhookEvent | None:
    """A publish: ``page.published`` if partners did not know it live, else ``page.updated``."""
    page = page.specific
    if not visibility.is_public(page):
        # A publish scheduled for later, or a private page: nothing public happened yet.
        return None
    with transaction.atomic():
        existed = WebhookPageState.objects.filter(page_id=page.pk).exists()
        state = _lock_state(page.pk)
        if existed:
            was_live = state.announced_live
        else:
            # Live before webhooks existed: it was published at an earlier time.
            was_live = bool(
                page.first_published_at
                and page.last_published_at
                and page.first_published_at < page.last_published_at
            )
        kind = WebhookEvent.Type.UPDATED if was_live else WebhookEvent.Type.PUBLISHED
        data = page_content(page).as_dict()
        return _record(page, state, kind, data, announced_live=True)


def page_went_away(page: Page) -> WebhookEvent | None:
    """An unpublish, expiry or new view restriction: ``page.unpublished``, once."""
    page = page.specific
    with transaction.atomic():
        existed = WebhookPageState.objects.filter(page_id=page.pk).exists()
        state = _lock_state(page.pk)
        if existed and not state.announced_live:
            return None  # partners already know it is gone
        # Only what identifies the page: never content of a page that is no longer public.
        data = {
            "id": page.pk,
            "type": page._meta.label,
            "title": page.title,
            "url": page.full_url or "",
        }
        return _record(page, state, WebhookEvent.Type.UNPUBLISHED, data, announced_live=False)


def page_review_lapsed(page: Page) -> WebhookEvent | None:
    """A live page's clinical review lapsed: ``page.review_lapsed`` with its content (which
    now says it is being reviewed). Nothing for a page partners were never told about."""
    page = page.specific
    if not visibility.is_public(page):
        return None
    with transaction.atomic():
        state = _lock_state(page.pk)
        data = page_content(page).as_dict()
        return _record(
            page, state, WebhookEvent.Type.REVIEW_LAPSED, data, announced_live=state.announced_live
        )


def page_deleted(page: Page) -> WebhookEvent | None:
    """[changes feed] A page deleted: ``page.deleted``, when partners may have known it.

    Called before the rows go (``pre_delete``), inside the delete's transaction, so the
    tombstone commits or rolls back with the delete itself.
    """
    page = page.specific
    existed = WebhookPageState.objects.filter(page_id=page.pk).exists()
    if not existed and not page.live:
        return None  # never announced, never live: nobody outside knew it
    # Pushed as ``page.unpublished``, as webhooks always have been (whichever of this
    # and Wagtail's own unpublish-before-delete runs first); ``page.deleted`` follows in
    # the feed only.
    page_went_away(page)
    with transaction.atomic():
        state = _lock_state(page.pk)
        data = {
            "id": page.pk,
            "type": page._meta.label,
            "title": page.title,
            "url": page.full_url or "",
        }
        return _record(
            page, state, WebhookEvent.Type.DELETED, data, announced_live=False, push=False
        )


def _record(
    page: Page,
    state: WebhookPageState,
    kind: str,
    data: dict,
    announced_live: bool,
    push: bool = True,
) -> WebhookEvent | None:
    state.version += 1
    state.announced_live = announced_live
    state.save(update_fields=["version", "announced_live"])
    label, tags = page._meta.label, page_tags(page)
    partners = [p for p in Partner.objects.filter(active=True) if p.wants(label, tags)]
    partners = partners if push else []  # [changes feed] a feed-only event
    now = timezone.now()
    # [changes feed] The event is the history the changes feed serves: written for
    # every change, whether or not a partner is subscribed; its seq is stamped after
    # commit, in commit order.
    event = WebhookEvent.objects.create(
        type=kind,
        page_id=page.pk,
        page_title=page.title[:255],
        version=state.version,
        occurred_at=now,
        data=data,
        page_type=label,
        page_url=(data.get("url") or "")[:500],
        page_tags=changes.tags_column(tags),
    )
    transaction.on_commit(changes.stamp, robust=True)
    if not partners:
        return None
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            event=event,
            partner=partner,
            # [changes feed] the event's id: a push and a feed item of one change match.
            webhook_id=event.webhook_id,
            next_attempt_at=now,
            created_at=now,
        )
        for partner in partners
    )
    ids = [delivery.pk for delivery in deliveries]
    if None in ids:  # a backend that cannot return ids from a bulk insert
        ids = list(event.deliveries.values_list("pk", flat=True))
    transaction.on_commit(partial(enqueue, ids))
    logger.info("Webhook %s for page %s to %d partner(s)", kind, page.pk, len(ids))
    return event


def enqueue(delivery_ids: list[int]) -> None:
    """Hint a worker to send now. If the broker is down, the sweeper sends them later."""
    from publishing.webhooks.tasks import send_deliveries

    try:
        send_deliveries.delay(delivery_ids)
    except Exception:  # noqa: BLE001 - the outbox rows are safe; never fail the publish
        logger.exception(
            "Could not enqueue deliveries %s; the sweeper will send them", delivery_ids
        )
