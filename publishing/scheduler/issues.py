"""What the scheduler could not do, kept for editors: the "Problems" of the Scheduled
report (:class:`~publishing.models.ScheduleIssue`).

Here rather than in the engine because the go-live follow-up
(:mod:`publishing.scheduler.follow_up`, which the engine imports) records its failures
too: a page that went live without its partners being told is the editors' to know.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import DatabaseError, transaction

from publishing.models import ScheduleIssue

logger = logging.getLogger(__name__)


def record(
    action: str,
    *,
    content_type_id: int | None,
    object_id: str,
    revision_id: int | None,
    title: str,
    scheduled_at: dt.datetime | None,
    reason: str,
    final: bool,
) -> None:
    """Remember a skip or failure for the report; a repeat bumps its attempt count."""
    try:
        with transaction.atomic():
            issue = (
                ScheduleIssue.objects.select_for_update()
                .filter(
                    action=action,
                    content_type_id=content_type_id,
                    object_id=object_id,
                    revision_id=revision_id,
                    scheduled_at=scheduled_at,
                    resolved=False,
                )
                .first()
            )
            if issue is None:
                ScheduleIssue.objects.create(
                    action=action,
                    content_type_id=content_type_id,
                    object_id=object_id,
                    revision_id=revision_id,
                    title=title[:255],
                    scheduled_at=scheduled_at,
                    reason=reason,
                    final=final,
                )
            else:
                issue.attempts += 1
                issue.reason = reason
                issue.final = issue.final or final
                issue.save(update_fields=["attempts", "reason", "final", "last_seen_at"])
    except DatabaseError:
        logger.exception("could not record a scheduler issue for %s %s", action, object_id)


def resolve(action: str, object_ids: list[str], revision_ids: list[int] | None = None) -> None:
    """Close the open issues of these objects (of these revisions, if given): one query
    for a whole batch, and a write only when there is something to close."""
    issues = ScheduleIssue.objects.filter(action=action, object_id__in=object_ids, resolved=False)
    if revision_ids is not None:
        issues = issues.filter(revision_id__in=revision_ids)
    issues.update(resolved=True)
