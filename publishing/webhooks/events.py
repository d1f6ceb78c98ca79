"""Turning page changes into webhook events and outbox rows.

Called by the publish pipeline (``publishing.pipeline.signal_handlers``) inside the
publishing transaction, so the outbox rows commit (or roll back) with the publish
itself. The rows are written due at ``not_before``: the pipeline releases and hints them
once the CDN is purged (``publishing.pipeline.steps.notify``); the sweeper finds
anything whose hint was lost.
"""

from __future__ import annotations

import logging
from datetime import datetime

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


def page_went_live(page: Page, not_before: datetime | None = None) -> WebhookEvent | None:
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
        return _record(page, state, kind, data, announced_live=True, not_before=not_before)


def page_went_away(page: Page, not_before: datetime | None = None) -> WebhookEvent | None:
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
        return _record(
            page,
            state,
            WebhookEvent.Type.UNPUBLISHED,
            data,
            announced_live=False,
            not_before=not_before,
        )


def may_be_known(page: Page) -> bool:
    """Whether anyone outside may know the page: announced once, or live now."""
    return page.live or WebhookPageState.objects.filter(page_id=page.pk).exists()


def page_review_lapsed(page: Page, not_before: datetime | None = None) -> WebhookEvent | None:
    """A live page's clinical review lapsed: ``page.review_lapsed`` with its content (which
    now says it is being reviewed). Nothing for a page partners were never told about."""
    page = page.specific
    if not visibility.is_public(page):
        return None
    with transaction.atomic():
        state = _lock_state(page.pk)
        data = page_content(page).as_dict()
        return _record(
            page,
            state,
            WebhookEvent.Type.REVIEW_LAPSED,
            data,
            announced_live=state.announced_live,
            not_before=not_before,
        )


def page_deleted(page: Page) -> WebhookEvent | None:
    """[changes feed] A page deleted: ``page.deleted``, when partners may have known it.

    Called before the rows go (``pre_delete``), inside the delete's transaction, so the
    tombstone commits or rolls back with the delete itself. Partners are pushed
    ``page.unpublished`` (as webhooks always have been: the pipeline calls
    :func:`page_went_away` first); ``page.deleted`` is in the changes feed only.
    """
    page = page.specific
    if not may_be_known(page):
        return None
    with transaction.atomic():
        state = _lock_state(page.pk)
        data = {
            "id": page.pk,
            "type": page._meta.label,
            "title": page.title,
            "url": page.full_url or "",
        }
        return _record(
            page,
            state,
            WebhookEvent.Type.DELETED,
            data,
            announced_live=False,
            not_before=None,
            push=False,
        )


def _record(
    page: Page,
    state: WebhookPageState,
    kind: str,
    data: dict,
    announced_live: bool,
    not_before: datetime | None,
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
    # every change, whether or not a partner is subscribed; its seq is stamped in commit
    # order by the pipeline's notify step, after the CDN purge (publishing.pipeline.steps).
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
    if not partners:
        return None
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            event=event,
            partner=partner,
            # [changes feed] the event's id: a push and a feed item of one change match.
            webhook_id=event.webhook_id,
            next_attempt_at=not_before or now,
            created_at=now,
        )
        for partner in partners
    )
    logger.info("Webhook %s for page %s to %d partner(s)", kind, page.pk, len(deliveries))
    return event


def delivery_ids(event: WebhookEvent) -> list[int]:
    """The outbox rows of ``event`` (a bulk insert does not return ids on every backend)."""
    return list(event.deliveries.values_list("pk", flat=True))


def enqueue(delivery_ids: list[int]) -> None:
    """Queue a send task per delivery now. If the broker is down, the sweeper sends them."""
    from publishing.webhooks.tasks import dispatch

    try:
        dispatch(delivery_ids)
    except Exception:  # noqa: BLE001 - the outbox rows are safe; never fail the publish
        logger.exception(
            "Could not enqueue deliveries %s; the sweeper will send them", delivery_ids
        )
