"""/healthz checks of the publishing app: scheduled items that should have happened."""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from cms import health
from publishing.governance.lapse import due_lapses
from publishing.scheduler.engine import blocked_issue_keys, due_expiries, due_revisions


def overdue_grace() -> dt.timedelta:
    """How late an item may be before /healthz calls it overdue (``HEALTH_OVERDUE_GRACE_SECONDS``).

    The sweep runs every second, so anything past this means the scheduler (or the
    webhook sender) is not keeping up, or is down. Read per request so tests can shorten it.
    """
    return dt.timedelta(seconds=settings.HEALTH_OVERDUE_GRACE_SECONDS)


@health.register("scheduler")
def scheduler_health() -> dict:
    """Overdue go-lives, expiries and review lapses, apart from those reported to editors;
    and go-lives whose follow-up (``page_published``: partners, feeds) has not run yet."""
    from publishing.models import GoLiveFollowUp

    cutoff = timezone.now() - overdue_grace()
    blocked = {object_id for _action, object_id, _revision in blocked_issue_keys()}
    overdue = [object_id for _pk, object_id, _when in due_revisions(cutoff)]
    overdue += [object_id for _ct, object_id, _when in due_expiries(cutoff)]
    overdue += [str(page_id) for _label, page_id, _when in due_lapses(cutoff)]
    waiting = [object_id for object_id in overdue if object_id not in blocked]
    late = GoLiveFollowUp.objects.filter(created_at__lte=cutoff).count()
    return {
        "ok": not waiting and not late,
        "overdue": len(waiting),
        "needs_editor": len(overdue) - len(waiting),
        "follow_ups_late": late,
    }


@health.register("webhooks")
def webhook_health() -> dict:
    """Deliveries that should have been attempted by now but were not: the sender is behind.

    Deliveries waiting for a retry later are normal (a partner is down) and are reported
    as ``waiting``, not as a failure; ``dead`` ones are shown for operators to look at.
    """
    from publishing.models import Delivery

    cutoff = timezone.now() - overdue_grace()
    open_states = [Delivery.State.PENDING, Delivery.State.FAILED]
    backlog = Delivery.objects.filter(state__in=open_states, next_attempt_at__lte=cutoff).count()
    waiting = Delivery.objects.filter(state__in=open_states).count() - backlog
    dead = Delivery.objects.filter(state=Delivery.State.DEAD).count()
    return {"ok": backlog == 0, "backlog": backlog, "waiting": waiting, "dead": dead}


@health.register("cdn_purge")
def cdn_purge_health() -> dict:
    """CDN purges still failing (their notifications wait), or given up on lately.

    A purge that gave up sent its notifications while the CDN may still serve the old
    copy: shown for a day so an operator sees it even after the CDN recovers.
    """
    from publishing.models import CdnPurge

    retrying = CdnPurge.objects.filter(state=CdnPurge.State.RETRYING).count()
    since = timezone.now() - dt.timedelta(days=1)
    gave_up = CdnPurge.objects.filter(state=CdnPurge.State.GAVE_UP, finished_at__gte=since).count()
    return {"ok": not retrying and not gave_up, "retrying": retrying, "gave_up": gave_up}
