"""Reviews that lapse on time, exactly once.

At "Next review due" (the start of that day, in the site's time zone) the page type's
configured action applies: the reader banner "This information is being reviewed" (page
and API), a ``page.review_lapsed`` webhook event, caches replaced; optionally the page is
unpublished. The claim is the scheduler's: lock the page row (``SKIP LOCKED``), re-check
under the lock, record ``review_lapsed_on`` in the same transaction, write the audit log.
A second claimant, a re-delivered task or a worker restarted after ``kill -9`` finds
``review_lapsed_on == next_review_due`` and does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone
from wagtail.log_actions import log

from publishing.governance.policy import policy_for
from publishing.governance.signals import review_lapsed
from publishing.models.governance import HEALTH_TYPES, LapseAction

logger = logging.getLogger(__name__)

LOG_ACTION = "publishing.review_lapsed"
#: At most this many lapses are applied per sweep, so one sweep stays short.
SWEEP_LIMIT = 500


def health_models() -> list[type[models.Model]]:
    return [apps.get_model(label) for label in HEALTH_TYPES]


def _due(model: type[models.Model], today: dt.date) -> models.QuerySet:
    return model._default_manager.filter(live=True, next_review_due__lte=today).exclude(
        review_lapsed_on=models.F("next_review_due")
    )


def due_lapses(now: dt.datetime | None = None) -> list[tuple[str, int]]:
    """(model label, page id) of live health pages whose review is due and not yet lapsed."""
    today = timezone.localdate(now or timezone.now())
    found: list[tuple[str, int]] = []
    for model in health_models():
        for pk in _due(model, today).values_list("pk", flat=True)[:SWEEP_LIMIT]:
            found.append((model._meta.label_lower, pk))
    return found


def apply_lapse(label: str, page_id: int, now: dt.datetime | None = None) -> bool:
    """Apply one page's lapse if, under its row lock, it is still due. True if applied."""
    now = now or timezone.now()
    model = apps.get_model(label)
    with transaction.atomic():
        page = (
            _due(model, timezone.localdate(now))
            .select_for_update(skip_locked=True, of=("self", "page_ptr"))
            .filter(pk=page_id)
            .first()
        )
        if page is None:
            return False  # done by another claimant, reviewed meanwhile, or busy
        due = page.next_review_due
        model._default_manager.filter(pk=page.pk).update(review_lapsed_on=due)
        page.review_lapsed_on = due
        policy = policy_for(page)
        action = policy.lapse_action if policy else LapseAction.BANNER
        log(instance=page, action=LOG_ACTION, data={"due": due.isoformat(), "action": action})
        # The publish pipeline: caches, CDN, feeds and the page.review_lapsed webhook.
        review_lapsed.send(sender=type(page), instance=page)
        if action == LapseAction.UNPUBLISH:
            page.unpublish()  # Wagtail's signals, through the same pipeline
    logger.info(
        "clinical review of %s %s lapsed (due %s), %s, %.3fs after the day began",
        label,
        page_id,
        due.isoformat(),
        action,
        (now - timezone.make_aware(dt.datetime.combine(due, dt.time.min))).total_seconds(),
    )
    return True


def apply_due_lapses(now: dt.datetime | None = None) -> int:
    """Every lapse due now, each in its own claim; one failure never stops the others."""
    applied = 0
    for label, page_id in due_lapses(now):
        try:
            applied += apply_lapse(label, page_id, now)
        except Exception:  # noqa: BLE001 - one bad page must never stop the others
            logger.exception("review lapse of %s %s failed; retried next sweep", label, page_id)
    return applied
