"""Reviews that lapse on time, exactly once: one more kind of scheduled item.

A review lapses at "Next review due" — that day, at ``CLINICAL_REVIEW_LAPSE_TIME`` (the
start of the day by default) in the site's time zone: ``policy.lapse_at`` is that rule,
and everything else (this module, the publish gate) asks it. The page type's configured
action then applies: the reader banner "This information is being reviewed" (page and
API), a ``page.review_lapsed`` webhook event, caches and feeds updated; optionally the
page is unpublished.

The scheduler arms and claims lapses as it does go-lives and expiries
(``publishing.scheduler.engine``): its 1 s sweep finds lapses due within its horizon
(:func:`due_lapses`), arms an ETA task at the instant (a changed due date is a new
instant, so it is armed anew and the old wake-up finds nothing), and re-arms one lost
with a killed worker. The claim (:func:`apply_lapse`): lock the page row (``SKIP
LOCKED``), re-check under the lock, record ``review_lapsed_on`` and write the audit entry
in the same transaction. A second claimant, a re-delivered task or a worker restarted
after ``kill -9`` finds ``review_lapsed_on == next_review_due`` and does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone
from wagtail.log_actions import log

from publishing.governance.policy import lapse_at, policy_for
from publishing.governance.signals import review_lapsed
from publishing.models.governance import HEALTH_TYPES, LapseAction

logger = logging.getLogger(__name__)

LOG_ACTION = "publishing.review_lapsed"
#: At most this many lapses per page type are armed per sweep, so one sweep stays short.
SWEEP_LIMIT = 500


def health_models() -> list[type[models.Model]]:
    return [apps.get_model(label) for label in HEALTH_TYPES]


def lapsed_through(now: dt.datetime) -> dt.date:
    """The latest due date whose lapse instant is not after ``now``."""
    today = timezone.localdate(now)
    return today if lapse_at(today) <= now else today - dt.timedelta(days=1)


def _due(model: type[models.Model], now: dt.datetime) -> models.QuerySet:
    return model._default_manager.filter(
        live=True, next_review_due__lte=lapsed_through(now)
    ).exclude(review_lapsed_on=models.F("next_review_due"))


def due_lapses(until: dt.datetime) -> list[tuple[str, int, dt.datetime]]:
    """(model label, page id, lapse instant) of live health pages whose review lapses by
    ``until`` and has not lapsed yet, soonest first."""
    found: list[tuple[str, int, dt.datetime]] = []
    for model in health_models():
        rows = _due(model, until).order_by("next_review_due", "pk")
        for pk, due in rows.values_list("pk", "next_review_due")[:SWEEP_LIMIT]:
            found.append((model._meta.label_lower, pk, lapse_at(due)))
    found.sort(key=lambda item: item[2])
    return found


def apply_lapse(label: str, page_id: int, now: dt.datetime | None = None) -> bool:
    """Apply one page's lapse if, under its row lock, it is still due. True if applied."""
    now = now or timezone.now()
    model = apps.get_model(label)
    with transaction.atomic():
        page = (
            _due(model, now)
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
        at = lapse_at(due)
        log(
            instance=page,
            action=LOG_ACTION,
            data={"due": due.isoformat(), "scheduled_at": at.isoformat(), "action": action},
        )
        # The publish pipeline: caches, CDN, feeds and the page.review_lapsed webhook.
        review_lapsed.send(sender=type(page), instance=page)
        if action == LapseAction.UNPUBLISH:
            page.unpublish()  # Wagtail's signals, through the same pipeline
    logger.info(
        "clinical review of %s %s lapsed (due %s), %s, done %.3fs late",
        label,
        page_id,
        at.isoformat(),
        action,
        (timezone.now() - at).total_seconds(),
    )
    return True
