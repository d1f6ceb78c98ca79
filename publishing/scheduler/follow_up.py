"""A scheduled page goes live at its instant; what follows the save runs just after, once.

Why: at a burst's instant readers wait for the page rows, not for what Wagtail's publish
action does after the save (its ``_after_publish`` step: ``page_published`` and its
receivers, the pipeline's webhook outbox and feed keys among them; cancelling a finished
workflow; updating aliases; re-saving comment positions). That step was about 40 % of a
scheduled publish (profile in issue 17's note), paid inside the go-live transaction while
the burst's later pages waited.

How: the scheduler publishes pages with :class:`GoLiveAction`, Wagtail's own action
whose after-publish step, instead of running, writes a
:class:`~publishing.models.GoLiveFollowUp` row in the go-live transaction. Once that
commits, a task (queued behind the burst's go-live tasks) runs Wagtail's step for the
rows with :func:`finish`, and deletes each row in the transaction that ran it: exactly
once. Rows a dead process left behind are handed to a worker by the beat sweep
(:func:`stale`). The audit entry stays in the go-live transaction (Wagtail writes it
after the step), so it carries the go-live's time.

For readers and partners: the go-live commit runs the pipeline for the saved rows (our
caches, the CDN purge); the follow-up's ``page_published`` runs it again (purge, then
WebSub and webhooks), so a partner is still told only after the CDN has the page.
A follow-up whose revision is no longer the live one when it runs (published over,
unpublished, expired) sends no ``page_published``: its receivers would announce content
that is gone, and the later change sent its own signal.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from celery import shared_task
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.actions.publish_page_revision import PublishPageRevisionAction
from wagtail.models import Page, Revision

from cms import publish_gate, transactions
from publishing.models import GoLiveFollowUp, ScheduleIssue
from publishing.scheduler import issues
from publishing.scheduler.retry import RETRY

logger = logging.getLogger(__name__)

_BATCH = "publishing.scheduler.follow_up"
#: Rows handed to one task at most.
STALE_LIMIT = 500
#: A follow-up idle this long is handed to a worker again by the beat sweep.
RETRY_AFTER = dt.timedelta(seconds=8)
#: A follow-up that failed this many times is given up (and logged as such).
MAX_ATTEMPTS = 3


class GoLiveAction(PublishPageRevisionAction):
    """Wagtail's publish action with its after-publish step left to :func:`finish`."""

    def _after_publish(self) -> None:
        row = GoLiveFollowUp.objects.create(revision=self.revision, page_id=self.object.pk)
        # One task for the transaction's follow-ups, sent once it commits.
        transactions.append(_BATCH, send, row.pk)


def send(ids: list[int]) -> None:
    """Queue :func:`finish` for ``ids``; if the broker is away, the beat sweep finds them."""
    try:
        finish_go_live_follow_ups.delay(ids)
    except Exception:  # noqa: BLE001 - the rows are the source of truth, not the message
        logger.warning("could not queue %d go-live follow-up(s); the sweep will", len(ids))


def go_live(revision: Revision, page: Page, log_action: str) -> None:
    """Publish ``revision`` of ``page`` now, with the after-publish step deferred.

    The same gate as every publish (``cms.publish_gate``, which ``Page.publish`` calls on
    the other paths; ``Page.save`` checks it again as a backstop).
    """
    publish_gate.check(revision, page.specific_deferred)
    # No savepoint of its own: the scheduler's claim holds one per item already.
    with transaction.atomic(savepoint=False):
        GoLiveAction(revision, log_action=log_action).execute(skip_permission_checks=True)


def finish(ids: Iterable[int]) -> int:
    """Run Wagtail's after-publish step for these follow-ups, each once; returns how many
    sent their signal. Rows another process holds are left to it."""
    sent = 0
    with transaction.atomic():
        rows = list(
            GoLiveFollowUp.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=list(ids))
            .select_related("revision")
            .order_by("pk")
        )
        for row in rows:
            try:
                with transaction.atomic():
                    sent += _run(row)
                    row.delete()
            except DatabaseError:
                raise  # transient: the task retries, the rows stay
            except Exception as exc:  # noqa: BLE001 - one receiver's failure must not hold the others
                _failed(row, exc)
    return sent


def _failed(row: GoLiveFollowUp, exc: Exception) -> None:
    """A receiver raised (its savepoint rolled back): the sweep retries, a bounded number
    of times, each logged once; the editors see it in the Scheduled report until the page
    is published again (which tells partners: :func:`resolve_told`)."""
    row.attempts += 1
    given_up = row.attempts >= MAX_ATTEMPTS
    error = f"{exc.__class__.__name__}: {exc}"
    if given_up:
        logger.exception(
            "go-live follow-up of revision %s failed %d times; given up (the page is live)",
            row.revision_id,
            row.attempts,
        )
        reason = _(
            "It went live, but partner sites (webhooks, WebSub) were not told after"
            " %(attempts)d attempts: %(error)s. Publish the page again to tell them."
        ) % {"attempts": row.attempts, "error": error}
    else:
        logger.exception(
            "go-live follow-up of revision %s failed; retried in %ss",
            row.revision_id,
            int(RETRY_AFTER.total_seconds()),
        )
        reason = _(
            "It went live, but telling partner sites (webhooks, WebSub) failed; retried"
            " in %(seconds)d seconds: %(error)s"
        ) % {"seconds": int(RETRY_AFTER.total_seconds()), "error": error}
    issues.record(
        ScheduleIssue.Action.NOTIFY,
        content_type_id=ContentType.objects.get_for_model(Page).pk,
        object_id=str(row.page_id),
        revision_id=row.revision_id,
        title=row.revision.object_str,
        scheduled_at=row.created_at,
        reason=str(reason),
        final=given_up,
    )
    if given_up:
        row.delete()
        return
    row.touched_at = timezone.now()
    row.save(update_fields=["attempts", "touched_at"])


def resolve_told(sender, instance: Page, **kwargs) -> None:
    """``page_published`` receiver: partners are being told about this page now, so its
    open "not told" problems are over. Rolled back with the publish where that runs in a
    transaction (a follow-up, an API v3 write); an admin publish does not."""
    issues.resolve(ScheduleIssue.Action.NOTIFY, [str(instance.pk)])


# Here rather than in ``tasks``, which imports the engine, which imports this module.
@shared_task(ignore_result=True, acks_late=True, **RETRY)
def finish_go_live_follow_ups(follow_up_ids: list[int]) -> int:
    """What follows scheduled go-lives (``page_published`` and the rest), each once."""
    return finish(follow_up_ids)


def _run(row: GoLiveFollowUp) -> bool:
    page = Page.objects.filter(pk=row.page_id).first()
    if page is None or not page.live or page.live_revision_id != row.revision_id:
        logger.info(
            "go-live follow-up of revision %s: no longer the live revision; no signal",
            row.revision_id,
        )
        return False
    action = PublishPageRevisionAction(row.revision)
    # The page as the go-live saved it (as_object alone would carry the revision's stale
    # live_revision and publish times), then Wagtail's own step, as it runs inline.
    action.object = page.specific
    action._after_publish()
    return True


def stale(now: dt.datetime) -> list[int]:
    """Follow-ups idle for :data:`RETRY_AFTER`: their task was lost, or they failed."""
    return list(
        GoLiveFollowUp.objects.filter(touched_at__lt=now - RETRY_AFTER)
        .order_by("pk")
        .values_list("pk", flat=True)[:STALE_LIMIT]
    )


def pending() -> list[int]:
    """Every follow-up still to run (``manage.py publish_scheduled`` finishes them)."""
    return list(GoLiveFollowUp.objects.order_by("pk").values_list("pk", flat=True))
