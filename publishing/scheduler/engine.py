"""The scheduler: scheduled go-lives and expiries, on time, exactly once, crash-safe.

Why it is shaped so:

* Wagtail's own fields are the source of truth: ``Revision.approved_go_live_at`` (set by
  ``revision.publish()`` when ``go_live_at`` is in the future) and ``expire_at`` on live
  pages and ``DraftStateMixin`` snippets. Nothing here keeps a parallel schedule.
* The broker only carries wake-ups. A frequent, cheap sweep (run by beat:
  :func:`publishing.scheduler.tasks.sweep`, over :func:`wake_ups_to_arm`) arms a Celery
  ETA task for each item due within :data:`HORIZON` — never far-future ETAs, which
  Redis would re-deliver after ``visibility_timeout`` while workers hold them in memory.
  An "armed" marker with a short TTL, kept in the broker's own Redis, de-duplicates the
  arming; it dies with the queue, so a Redis restart re-arms everything on the next sweep,
  and a task lost with a killed worker is re-armed once its marker expires
  (:data:`GRACE` after the due time).
* Exactly once: every path (ETA task, sweep, ``manage.py publish_scheduled``) goes through
  :func:`publish_due_revision` / :func:`expire_due_object`, which lock the object's row
  (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite ``BEGIN IMMEDIATE``
  takes the database write lock, which serialises writers across processes), re-check
  under the lock that the item is still due, and publish with Wagtail's own action. That
  action clears ``approved_go_live_at`` (or sets ``live=False``) in the same transaction,
  so a second claimant finds nothing to do. Wagtail's action sends ``page_published`` /
  ``published`` (and the unpublish signals) and writes the audit-log entry, once.
* One item per savepoint: a release of many pages due at one instant publishes each
  independently; a failure is recorded as a :class:`~publishing.models.ScheduleIssue`
  (shown in the "Scheduled" report) and never stops the others.
* Review lapses (clinical governance) are one more kind of item: found by the same
  sweep (:func:`publishing.governance.lapse.due_lapses`), armed with the same markers,
  claimed under the same row lock through :func:`lapse_due_page`, audited once.
* Bursts: publishes due at one instant are armed as a few batch tasks
  (:func:`publish_due_revisions`, :data:`BATCH_SIZE` each) that the worker processes
  share; a batch commits once per :data:`BATCH_SECONDS`, and the work Wagtail does
  after a save that readers do not wait for (reference and search index) runs after
  commit as background tasks (``TASKS`` setting), so pages go live sooner. So does
  Wagtail's after-publish step (``page_published`` and its receivers): a scheduled page
  is published with :class:`publishing.scheduler.follow_up.GoLiveAction`, which leaves
  that step to a follow-up task, exactly once.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache as memoize

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from wagtail.log_actions import registry as log_registry
from wagtail.models import DraftStateMixin, Page, PageLogEntry, Revision, TaskState
from wagtail.permissions import policy_registry

from cms import publish_gate
from cms.health import BEAT_TICK_CACHE_KEY
from publishing.governance import lapse as review_lapse
from publishing.governance import policy as governance_policy
from publishing.governance.gate import refusal as governance_refusal
from publishing.models import ScheduleIssue
from publishing.scheduler import follow_up, issues

logger = logging.getLogger(__name__)

#: Arm ETA tasks only for items due within this window; the sweep picks up the rest later.
HORIZON = dt.timedelta(seconds=getattr(settings, "SCHEDULER_HORIZON_SECONDS", 60))
#: An armed item not done this long after its time is armed again (its task was lost).
GRACE = dt.timedelta(seconds=getattr(settings, "SCHEDULER_GRACE_SECONDS", 8))
#: Unexpected errors are retried this many times, then the item waits for an editor.
MAX_ATTEMPTS = getattr(settings, "SCHEDULER_MAX_ATTEMPTS", 3)
#: At most this many items are armed per sweep, so one sweep stays short.
SWEEP_LIMIT = 2000
#: Publishes due at one instant are armed as tasks of at most this many revisions each,
#: so a burst is shared among worker processes and pays one commit per batch.
BATCH_SIZE = getattr(settings, "SCHEDULER_BATCH_SIZE", 10)
#: A batch commits after this much work at the latest, so its first page is not held
#: back long, nor the database write lock (SQLite) held long.
BATCH_SECONDS = getattr(settings, "SCHEDULER_BATCH_SECONDS", 0.5)

MARKER_PREFIX = "publishing:scheduler:armed"
#: The audit action of a scheduled go-live (Wagtail's ``publish_scheduled`` writes it too).
LOG_ACTION = "wagtail.publish.scheduled"


class Outcome(enum.StrEnum):
    """What one claim attempt did; tasks and the command log and count these."""

    PUBLISHED = "published"
    EXPIRED = "expired"
    LAPSED = "lapsed"  # clinical governance: a review's "next review due" arrived
    NOT_DUE = "not due"
    NOTHING = "nothing to do"  # already done by someone else, cancelled or rescheduled
    BUSY = "busy"  # another process holds the row; it will finish or roll back
    DEFERRED = "deferred"  # expiry waits for a due scheduled revision of the same object
    SKIPPED = "skipped"
    HELD = "held"  # clinical governance: no valid clinical review; kept scheduled
    FAILED = "failed"


def scheduled_models() -> list[type[models.Model]]:
    """Page plus every concrete ``DraftStateMixin`` model, as Wagtail's command does."""
    return [Page] + [
        model
        for model in apps.get_models()
        if issubclass(model, DraftStateMixin) and not issubclass(model, Page)
    ]


def _base_model(content_type_id: int) -> type[models.Model]:
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    if model is not None and issubclass(model, Page):
        return Page
    return model


# --- validation -------------------------------------------------------------------------


def validate_schedule(go_live_at: dt.datetime | None, expire_at: dt.datetime | None) -> None:
    """Refuse an expiry before go-live: such content would never be seen, or leak briefly."""
    if go_live_at and expire_at and expire_at < go_live_at:
        raise ValidationError(
            {"expire_at": _("The expiry date/time must be after the go-live date/time.")}
        )


#: Not looked up yet (``_scheduling_users`` read it for pages only).
_UNKNOWN = object()


def _scheduling_users(hints: dict[int, dict]) -> dict[int, object]:
    """Who approved each page's schedule, for a whole burst in one query (the audit log
    knows); None where code did. Snippets are left to :func:`_scheduling_user`."""
    page_type = ContentType.objects.get_for_model(Page).pk
    ids = [pk for pk, hint in hints.items() if hint["base_content_type_id"] == page_type]
    if not ids:
        return {}
    users: dict[int, object] = dict.fromkeys(ids)
    entries = (
        PageLogEntry.objects.filter(revision_id__in=ids, action="wagtail.publish.schedule")
        .select_related("user")
        .order_by("revision_id", "-timestamp")
    )
    seen: set[int] = set()
    for entry in entries:
        if entry.revision_id not in seen:
            seen.add(entry.revision_id)
            users[entry.revision_id] = entry.user
    return users


def _scheduling_user(revision: Revision, obj: models.Model):
    """The person who approved this schedule (the audit log knows), or None if code did."""
    entry = (
        log_registry.get_logs_for_instance(obj)
        .filter(revision_id=revision.pk, action="wagtail.publish.schedule")
        .select_related("user")
        .order_by("-timestamp")
        .first()
    )
    return entry.user if entry else None


def _approved_by(revision: Revision, user) -> bool:
    """Whether ``user`` scheduled ``revision`` by approving it in a workflow.

    Wagtail publishes (or schedules) as the approver when a workflow finishes, whatever the
    approver's own rights: the approval is the authority, and whether it still stands is
    the publish gate's question (clinical reviewers have no publish rights of their own).
    """
    return TaskState.objects.filter(
        revision=revision, status=TaskState.STATUS_APPROVED, finished_by=user
    ).exists()


def _publish_problem(
    revision: Revision, obj: models.Model, now: dt.datetime, user: object = _UNKNOWN
) -> str | None:
    """Why this scheduled revision must not go live, or None. A problem is final.

    ``obj`` is the live row (not the revision's content, which Wagtail's action builds
    itself): the content's expiry comes from the revision JSON, cheaply.
    """
    expire_at = revision.content.get("expire_at")
    if isinstance(expire_at, str):
        expire_at = parse_datetime(expire_at)
    if expire_at and expire_at <= now:
        return str(_("it would go live already expired (expiry %(at)s)")) % {
            "at": expire_at.isoformat()
        }
    if user is _UNKNOWN:
        user = _scheduling_user(revision, obj)
    if user is not None:
        if isinstance(obj, Page):
            allowed = obj.permissions_for_user(user).can_publish()
        else:
            allowed = policy_registry.get(obj).user_has_permission(user, "publish")
        if not allowed and not _approved_by(revision, user):
            return str(_("%(user)s, who scheduled it, may no longer publish it")) % {
                "user": user.get_username()
            }
    return None


def _governance_hold(revision: Revision, obj: models.Model, now: dt.datetime) -> str | None:
    """Clinical governance: why this revision is held at go-live (no approved clinical
    review of it, or the review lapsed), or None. Held, not dropped."""
    if not publish_gate.enforced():
        return None
    # ``specific_deferred``: the type and tree position the policy needs, without a query.
    return governance_refusal(
        revision, obj.specific_deferred if isinstance(obj, Page) else obj, now
    )


# --- the claim paths --------------------------------------------------------------------


def _publish_hints(revision_ids: Iterable[int]) -> dict[int, dict]:
    """What the claim needs to know before locking: one query for any number of ids."""
    return {
        row["pk"]: row
        for row in Revision.objects.filter(pk__in=list(revision_ids)).values(
            "pk", "base_content_type_id", "object_id", "approved_go_live_at", "object_str"
        )
    }


def _precheck(revision_id: int, hint: dict | None, now: dt.datetime) -> Outcome | None:
    """The outcome decided without a lock (gone, cancelled, not yet due), or None."""
    if hint is None:
        logger.warning("scheduled revision %s no longer exists; skipped", revision_id)
        return Outcome.NOTHING
    if hint["approved_go_live_at"] is None:
        return Outcome.NOTHING
    if hint["approved_go_live_at"] > now:
        return Outcome.NOT_DUE
    return None


def _issue_key(revision_id: int, hint: dict) -> dict:
    return {
        "content_type_id": hint["base_content_type_id"],
        "object_id": hint["object_id"],
        "revision_id": revision_id,
        "title": hint["object_str"],
        "scheduled_at": hint["approved_go_live_at"],
    }


def _claim_and_publish(
    revision_id: int, hint: dict, now: dt.datetime, user: object = _UNKNOWN
) -> tuple[Outcome | None, str | None]:
    """Inside a transaction: lock, re-check and publish one revision.

    Returns (outcome, None) when the claim found nothing to do (or held it: clinical
    governance), (None, problem) when a final problem cancelled the schedule, and
    (None, None) when it published.
    """
    base_model = _base_model(hint["base_content_type_id"])
    object_id = hint["object_id"]
    # Object row first, then the revision: every scheduler path locks in this order.
    obj = (
        base_model._default_manager.select_for_update(skip_locked=True).filter(pk=object_id).first()
    )
    if obj is None:
        return Outcome.BUSY, None
    revision = (
        Revision.objects.select_for_update()
        .filter(pk=revision_id, approved_go_live_at__lte=now)
        .first()
    )
    if revision is None:
        return Outcome.NOTHING, None  # published, cancelled or rescheduled meanwhile
    problem = _publish_problem(revision, obj, now, user)
    # --- clinical governance: hold (keep the schedule, record the issue) ---------------
    held = None if problem else _governance_hold(revision, obj, now)
    if held:
        # Not cancelled: an approval of this revision resolves the issue and the sweep
        # re-arms it. Shown in the Scheduled report and on the dashboard.
        logger.warning("scheduled publish of revision %s held: %s", revision_id, held)
        issues.record("publish", reason=held, final=True, **_issue_key(revision_id, hint))
        return Outcome.HELD, None
    # --- end clinical governance --------------------------------------------------------
    if problem:
        # Final: cancel the schedule (Wagtail logs "wagtail.schedule.cancel").
        revision.approved_go_live_at = None
        revision.save(update_fields=["approved_go_live_at"])
        return None, problem
    if isinstance(obj, Page):
        # Live now; Wagtail's after-publish step (signals, aliases) just after the commit.
        follow_up.go_live(revision, obj, log_action=LOG_ACTION)
    else:
        revision.publish(log_action=LOG_ACTION, skip_permission_checks=True)
    return None, None


def _report_published(revision_id: int, hint: dict) -> None:
    logger.info(
        "scheduled publish of %r (revision %s) due %s done %.3fs late",
        hint["object_str"],
        revision_id,
        hint["approved_go_live_at"].isoformat(),
        (timezone.now() - hint["approved_go_live_at"]).total_seconds(),
    )


def _report_skipped(revision_id: int, hint: dict, problem: str) -> Outcome:
    logger.warning("scheduled publish of revision %s skipped: %s", revision_id, problem)
    issues.record("publish", reason=problem, final=True, **_issue_key(revision_id, hint))
    return Outcome.SKIPPED


def publish_due_revision(revision_id: int, now: dt.datetime | None = None) -> Outcome:
    """Publish one scheduled revision if, under a row lock, it is still due. Idempotent."""
    now = now or timezone.now()
    hint = _publish_hints([revision_id]).get(revision_id)
    early = _precheck(revision_id, hint, now)
    if early is not None:
        return early
    try:
        with transaction.atomic():
            outcome, problem = _claim_and_publish(revision_id, hint, now)
            if outcome is None and problem is None:
                # Inside the claim: on SQLite a separate write would queue for the lock.
                issues.resolve("publish", [hint["object_id"]], [revision_id])
    except DatabaseError:
        raise  # transient (lock timeout, deadlock victim, lost connection): the task retries
    except Exception as exc:  # noqa: BLE001 - one bad item must never stop the others
        logger.exception("scheduled publish of revision %s failed", revision_id)
        issues.record(
            "publish",
            reason=f"{exc.__class__.__name__}: {exc}",
            final=False,
            **_issue_key(revision_id, hint),
        )
        return Outcome.FAILED
    if outcome is not None:
        return outcome
    if problem:
        return _report_skipped(revision_id, hint, problem)
    _report_published(revision_id, hint)
    return Outcome.PUBLISHED


def publish_due_revisions(
    revision_ids: Iterable[int], now: dt.datetime | None = None
) -> dict[int, Outcome]:
    """Publish many scheduled revisions due at one instant: a burst's fast path.

    Each item is claimed, re-checked and published exactly as by
    :func:`publish_due_revision`, but inside a savepoint of one transaction per
    :data:`BATCH_SECONDS` of work, so a burst pays one commit (and one round of
    after-commit work, which coalesces) per batch rather than per page. Locks taken are
    held until that commit, so a second claimant skips these rows (``BUSY``) and then
    finds them done. An item that fails is rolled back to its savepoint and recorded,
    never stopping the others; an item that hits a database error is retried alone
    through :func:`publish_due_revision` after the batch commits, so one poisoned row
    cannot hold the batch hostage.
    """
    now = now or timezone.now()
    ids = list(dict.fromkeys(revision_ids))
    hints = _publish_hints(ids)
    outcomes: dict[int, Outcome] = {}
    claimable = []
    for revision_id in ids:
        early = _precheck(revision_id, hints.get(revision_id), now)
        if early is None:
            claimable.append(revision_id)
        else:
            outcomes[revision_id] = early
    alone: list[int] = []
    users = _scheduling_users({pk: hints[pk] for pk in claimable}) if claimable else {}
    while claimable:
        started = time.monotonic()
        published: list[int] = []
        skipped: list[tuple[int, str]] = []
        with transaction.atomic(), governance_policy.memoised():
            while claimable and time.monotonic() - started < BATCH_SECONDS:
                revision_id = claimable.pop(0)
                hint = hints[revision_id]
                try:
                    with transaction.atomic():  # a savepoint: one item's failure is its own
                        outcome, problem = _claim_and_publish(
                            revision_id, hint, now, users.get(revision_id, _UNKNOWN)
                        )
                except DatabaseError:
                    logger.warning(
                        "scheduled publish of revision %s hit a database error in a batch;"
                        " retrying it alone",
                        revision_id,
                        exc_info=True,
                    )
                    alone.append(revision_id)
                    continue
                except Exception as exc:  # noqa: BLE001 - one bad item must never stop the others
                    logger.exception("scheduled publish of revision %s failed", revision_id)
                    issues.record(
                        "publish",
                        reason=f"{exc.__class__.__name__}: {exc}",
                        final=False,
                        **_issue_key(revision_id, hint),
                    )
                    outcome, problem = Outcome.FAILED, None
                if outcome is not None:
                    outcomes[revision_id] = outcome
                elif problem:
                    skipped.append((revision_id, problem))
                else:
                    published.append(revision_id)
            if transaction.get_rollback():
                # A savepoint could not be rolled back (the connection broke): nothing
                # in this batch will commit, so say so; the task retries all of it.
                raise DatabaseError("scheduler batch transaction is broken")
            if published:  # their earlier failures, if any, are over
                issues.resolve("publish", [hints[pk]["object_id"] for pk in published], published)
        for revision_id in published:
            _report_published(revision_id, hints[revision_id])
            outcomes[revision_id] = Outcome.PUBLISHED
        for revision_id, problem in skipped:
            outcomes[revision_id] = _report_skipped(revision_id, hints[revision_id], problem)
    for revision_id in alone:
        outcomes[revision_id] = publish_due_revision(revision_id, now=now)
    return outcomes


def expire_due_object(
    content_type_id: int, object_id: str, now: dt.datetime | None = None
) -> Outcome:
    """Unpublish one live object whose ``expire_at`` has passed, once, under a row lock."""
    now = now or timezone.now()
    base_model = _base_model(content_type_id)
    object_id = str(object_id)
    try:
        with transaction.atomic():
            obj = (
                base_model._default_manager.select_for_update(skip_locked=True)
                .filter(pk=object_id, live=True, expire_at__lte=now)
                .first()
            )
            if obj is None:
                return Outcome.NOTHING  # already expired, re-scheduled, or busy elsewhere
            revisions = Revision.objects.filter(
                base_content_type=ContentType.objects.get_for_model(base_model),
                object_id=object_id,
            )
            if revisions.filter(approved_go_live_at__lte=now).exists():
                # A due update may move the expiry: publish it first; the sweep comes back.
                return Outcome.DEFERRED
            # Wagtail's unpublish cancels every pending schedule; keep a later go-live the
            # editor set up (expire now, come back then), as the schedule promised.
            later = list(
                revisions.filter(approved_go_live_at__gt=now).values_list(
                    "pk", "approved_go_live_at"
                )
            )
            obj.unpublish(set_expired=True, log_action="wagtail.unpublish.scheduled")
            for pk, when in later:
                Revision.objects.filter(pk=pk).update(approved_go_live_at=when)
            issues.resolve("expire", [object_id])
            title = str(obj)
    except DatabaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad item must never stop the others
        logger.exception("scheduled expiry of %s %s failed", base_model.__name__, object_id)
        issues.record(
            "expire",
            content_type_id=content_type_id,
            object_id=object_id,
            revision_id=None,
            title="",
            scheduled_at=None,
            reason=f"{exc.__class__.__name__}: {exc}",
            final=False,
        )
        return Outcome.FAILED
    logger.info("scheduled expiry of %r (%s %s) done", title, base_model.__name__, object_id)
    return Outcome.EXPIRED


def lapse_due_page(label: str, page_id: int, now: dt.datetime | None = None) -> Outcome:
    """Apply one page's review lapse if, under its row lock, it is still due. Idempotent."""
    try:
        applied = review_lapse.apply_lapse(label, int(page_id), now)
    except DatabaseError:
        raise  # transient: the task retries, and the sweep re-arms it after GRACE
    except Exception:  # noqa: BLE001 - one bad item must never stop the others
        logger.exception("review lapse of %s %s failed; re-armed after the grace", label, page_id)
        return Outcome.FAILED
    return Outcome.LAPSED if applied else Outcome.NOTHING


# --- finding due items ------------------------------------------------------------------


def blocked_issue_keys() -> set[tuple[str, str, int | None]]:
    """Items an editor has to look at: skipped for good, or failed too often."""
    return {
        (action, object_id, revision_id)
        for action, object_id, revision_id in ScheduleIssue.objects.filter(resolved=False)
        .exclude(action=ScheduleIssue.Action.NOTIFY)  # live already: blocks no schedule
        .filter(models.Q(final=True) | models.Q(attempts__gte=MAX_ATTEMPTS))
        .values_list("action", "object_id", "revision_id")
    }


def due_revisions(until: dt.datetime) -> Iterable[tuple[int, str, dt.datetime]]:
    """(revision id, object id, go-live) for scheduled revisions due by ``until``, soonest first."""
    return (
        Revision.objects.filter(approved_go_live_at__lte=until)
        .order_by("approved_go_live_at", "pk")
        .values_list("pk", "object_id", "approved_go_live_at")[:SWEEP_LIMIT]
    )


def expiring(model: type[models.Model], until: dt.datetime) -> models.QuerySet:
    """(pk, expiry) of ``model``'s live objects expiring by ``until``, soonest first.

    For pages this reads the partial index on ``expire_at`` (cms migration 0004) rather
    than the whole page table, once a second.
    """
    return (
        model._default_manager.filter(live=True, expire_at__lte=until)
        .order_by("expire_at")
        .values_list("pk", "expire_at")[:SWEEP_LIMIT]
    )


def due_expiries(until: dt.datetime) -> Iterable[tuple[int, str, dt.datetime]]:
    """(content type id, object id, expiry) for live objects expiring by ``until``."""
    for model in scheduled_models():
        content_type_id = ContentType.objects.get_for_model(model).pk
        for pk, expire_at in expiring(model, until):
            yield content_type_id, str(pk), expire_at


# --- arming -----------------------------------------------------------------------------


@memoize
def _redis_for(url: str):
    import redis

    if url.startswith(("redis+socket://", "unix://")):
        path = url.split("://", 1)[1].split("?", 1)[0]
        return redis.Redis(unix_socket_path=path)
    return redis.Redis.from_url(url)


def _claim_markers(keys_ttls: list[tuple[str, float]]) -> list[bool]:
    """SET NX each marker; True where this caller armed it first.

    Kept in the broker's Redis (its own key prefix) so the markers live and die with the
    queued wake-ups: a broker that lost its queue has lost its markers too.
    """
    from cms.celery import app

    if app.conf.task_always_eager:
        return [True] * len(keys_ttls)  # tasks run inline: there is no queue to de-duplicate
    if not app.conf.broker_url.startswith(("redis", "unix")):
        return [cache.add(key, 1, timeout=max(1, int(ttl) + 1)) for key, ttl in keys_ttls]
    pipe = _redis_for(app.conf.broker_url).pipeline(transaction=False)
    for key, ttl in keys_ttls:
        pipe.set(key, 1, nx=True, px=max(1, int(ttl * 1000)))
    return [bool(result) for result in pipe.execute()]


def claim_marker(key: str, ttl: dt.timedelta) -> bool:
    """One marker (as :func:`_claim_markers`): True if this caller set it first."""
    return _claim_markers([(key, ttl.total_seconds())])[0]


def forget_armed() -> int:
    """Drop every "armed" marker, so the next sweep arms everything due soon again.

    Called when a worker starts: a worker that died took its in-memory ETA tasks with it,
    and a new one should not wait for their markers to expire. Duplicates this causes for
    tasks other live workers still hold are harmless: the claim re-checks.
    """
    from cms.celery import app

    if app.conf.task_always_eager or not app.conf.broker_url.startswith(("redis", "unix")):
        return 0
    client = _redis_for(app.conf.broker_url)
    keys = list(client.scan_iter(match=f"{MARKER_PREFIX}:*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
    return len(keys)


@dataclass(frozen=True)
class WakeUp:
    """One task to arm: ``kind`` is "publish" (args: revision id), "expire" (content type
    id, object id) or "lapse" (model label, page id); ``eta`` is None when already due."""

    kind: str
    args: tuple
    eta: dt.datetime | None


def wake_ups_to_arm(now: dt.datetime, only_due: bool = False) -> tuple[int, list[WakeUp]]:
    """What beat should arm now: due within the horizon, not blocked, not armed before.

    Returns the number of candidates and the wake-ups whose markers this call claimed, so
    a second beat, or a second sweep, arms nothing twice. ``only_due``: in-process runs
    (no worker) take only what is due now, since an ETA would run at once.
    """
    cache.set(BEAT_TICK_CACHE_KEY, time.time(), timeout=None)
    until = now + HORIZON
    blocked = blocked_issue_keys()
    candidates: list[tuple[str, tuple, dt.datetime]] = []
    for revision_id, object_id, when in due_revisions(until):
        if ("publish", object_id, revision_id) not in blocked:
            candidates.append(("publish", (revision_id,), when))
    for content_type_id, object_id, when in due_expiries(until):
        if ("expire", object_id, None) not in blocked:
            candidates.append(("expire", (content_type_id, object_id), when))
    for label, page_id, when in review_lapse.due_lapses(until):
        candidates.append(("lapse", (label, page_id), when))
    if only_due:
        candidates = [c for c in candidates if c[2] <= now]
    keys = [
        (
            f"{MARKER_PREFIX}:{kind}:{':'.join(map(str, args))}:{when.timestamp():.6f}",
            max((when - now).total_seconds(), 0) + GRACE.total_seconds(),
        )
        for kind, args, when in candidates
    ]
    wake_ups = [
        WakeUp(kind, args, when if when > now else None)
        for (kind, args, when), first in zip(candidates, _claim_markers(keys), strict=True)
        if first
    ]
    return len(candidates), wake_ups


def _attempt(claim, *args, now: dt.datetime) -> Outcome:
    try:
        return claim(*args, now=now)
    except DatabaseError:
        logger.exception("scheduler claim %s%r hit a database error", claim.__name__, args)
        return Outcome.FAILED


def run_due_now(now: dt.datetime | None = None) -> dict[str, int]:
    """Do everything due now in this process (``manage.py publish_scheduled``), item by item."""
    now = now or timezone.now()
    outcomes: list[Outcome] = []
    for content_type_id, object_id, _when in list(due_expiries(now)):
        outcomes.append(_attempt(expire_due_object, content_type_id, object_id, now=now))
    for revision_id, _object_id, _when in list(due_revisions(now)):
        outcomes.append(_attempt(publish_due_revision, revision_id, now=now))
    for label, page_id, _when in review_lapse.due_lapses(now):
        outcomes.append(_attempt(lapse_due_page, label, page_id, now=now))
    # What follows each go-live, here and now rather than by a worker that may not run.
    try:
        follow_up.finish(follow_up.pending())
    except DatabaseError:  # the pages are live; the beat sweep hands the rest on
        logger.exception("go-live follow-ups could not run now; left to the beat sweep")
    if Outcome.DEFERRED in outcomes:
        # A deferred expiry waited for a publish that has now happened; try once more.
        for content_type_id, object_id, _when in list(due_expiries(now)):
            outcomes.append(_attempt(expire_due_object, content_type_id, object_id, now=now))
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[str(outcome)] = counts.get(str(outcome), 0) + 1
    return counts
