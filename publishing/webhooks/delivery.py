"""Sending deliveries: claim, sign, POST, record, schedule the retry.

The database is the source of truth. A sender first *claims* a delivery with a lease
(a row lock with SKIP LOCKED, so two workers never send the same attempt), sends
without holding any database lock, then records the attempt only if it still holds the
lease. A sender that dies simply lets its lease run out; the sweeper then sends again.
Partners may therefore see a delivery twice; the stable ``webhook-id`` lets them drop it.

Each delivery is sent by its own Celery task (:func:`send`, run by
``tasks.send_delivery`` on the I/O worker's queue, a thread pool): a hanging partner ties
up one of those threads for at most one attempt, never a prefork slot that a scheduled
publish is waiting for, nor the other partners' sends. Before a task is queued the row is
*held* for the queue (:func:`hold`: ``locked_until`` set, no ``lease_token``), so the
sweeper queues it again only once that hold has run out, i.e. if the message was lost.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks import Webhook
from urllib3.util import Timeout

from cms.task_logs import network_failure
from publishing.models import Delivery, DeliveryAttempt, Partner
from publishing.webhooks.security import CheckedAdapter, UnsafeConnectionError

logger = logging.getLogger(__name__)

EXCERPT_CHARS = 500
# Read at most this much of a response: enough for the log excerpt, bounded for safety.
MAX_RESPONSE_BYTES = 4096
USER_AGENT = "CancerCare-Webhooks/1.0"
# Retry-After is honoured, but never beyond a day (a partner cannot park us forever).
MAX_RETRY_AFTER = 86400
# The cap on connect and read timeouts.
MAX_TIMEOUT = 15.0


@dataclass
class Outgoing:
    """Everything one HTTP attempt needs, detached from the ORM: no query runs mid-request."""

    delivery_id: int
    lease_token: uuid.UUID
    url: str
    body: str
    headers: dict[str, str]


@dataclass
class Result:
    started_at: datetime
    latency_ms: int
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def body_for(delivery: Delivery) -> str:
    """The JSON body; identical on every attempt so the partner sees one message."""
    event = delivery.event
    payload = {
        "type": event.type,
        "event_id": str(event.event_id),
        "occurred_at": event.occurred_at.isoformat(),
        "data": {**event.data, "version": event.version},
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True)


def sign(partner: Partner, webhook_id: str, body: str, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers; during rotation one ``v1,`` signature per live secret."""
    signatures = [
        Webhook(secret).sign(msg_id=webhook_id, timestamp=now, data=body)
        for secret in partner.signing_secrets(now)
    ]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def make_session() -> requests.Session:
    session = requests.Session()
    # No proxies from the environment: a proxy would connect on our behalf, unchecked.
    session.trust_env = False
    adapter = CheckedAdapter(max_retries=0, pool_connections=4, pool_maxsize=4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    # isascii(): "²".isdigit() is true and float("²") raises, outside post()'s try.
    if value.isascii() and value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def post(outgoing: Outgoing) -> Result:
    """One HTTP attempt, bounded by :func:`attempt_deadline`. No database access here
    (no connection is held while a partner thinks), and it never raises: whatever the
    partner does ends as a recorded attempt."""
    started_at = timezone.now()
    clock = time.monotonic()
    connect, read = timeouts()

    def failed(error: str) -> Result:
        latency_ms = int((time.monotonic() - clock) * 1000)
        return Result(started_at=started_at, latency_ms=latency_ms, error=error[:300])

    try:
        with make_session() as session:
            response = session.post(
                outgoing.url,
                data=outgoing.body.encode(),
                headers=outgoing.headers,
                # total: the wall-clock bound reaches the wait for the status line too.
                timeout=Timeout(connect=connect, read=read, total=attempt_deadline()),
                allow_redirects=False,
                stream=True,
            )
            raw = read_excerpt(response, clock)
    except requests.Timeout as exc:
        if time.monotonic() - clock >= attempt_deadline():
            return failed(f"timeout: no complete answer within {attempt_deadline():.0f} s")
        return failed(describe_error(exc))
    except requests.RequestException as exc:
        return failed(describe_error(exc))
    except Exception as exc:  # noqa: BLE001 - recorded as a failed attempt, then retried
        logger.exception("Unexpected error sending delivery %s", outgoing.delivery_id)
        return failed(f"{exc.__class__.__name__}: {exc}")
    result = Result(
        started_at=started_at,
        latency_ms=int((time.monotonic() - clock) * 1000),
        status_code=response.status_code,
        excerpt=raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS],
    )
    if response.status_code in (429, 503):
        result.retry_after = parse_retry_after(response.headers.get("Retry-After"), started_at)
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location", "")
        result.error = f"redirect to {location[:200]} not followed"
    return result


def read_excerpt(response: requests.Response, clock: float) -> bytes:
    """The start of the body, for the log; bounded in size and in time."""
    raw = b""
    try:
        for chunk in response.iter_content(chunk_size=512):
            raw += chunk
            if len(raw) >= MAX_RESPONSE_BYTES or time.monotonic() - clock > attempt_deadline():
                break
    except requests.RequestException:
        pass  # the status line decided the outcome; the body is only for the log
    finally:
        response.close()
    return raw


def describe_error(exc: Exception) -> str:
    """A short, secret-free description for the log: what kind of failure it was."""
    for cause in _causes(exc):
        if isinstance(cause, UnsafeConnectionError):
            return f"refused: {getattr(cause, '_message', cause)}"[:300]
    if isinstance(exc, requests.Timeout):
        return f"timeout: {exc}"[:300]
    return f"{exc.__class__.__name__}: {exc}"[:300]


def _causes(exc: BaseException) -> Iterable[BaseException]:
    """Every exception wrapped inside ``exc`` (requests and urllib3 nest them deeply)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        stack += [current.__cause__, current.__context__]
        stack += [reason] if isinstance(reason, BaseException) else []
        stack += [arg for arg in current.args if isinstance(arg, BaseException)]


def next_delay(attempts: int, retry_after: float | None) -> float | None:
    """Seconds until the next attempt after ``attempts`` failures, or None when dead."""
    delays = settings.WEBHOOK_RETRY_DELAYS
    if attempts > len(delays):
        return None
    if retry_after is not None:
        return retry_after
    base = delays[attempts - 1]
    # +/-20% jitter so partners that failed together do not all retry together.
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


def _open_and_due(now: datetime) -> Q:
    return Q(state__in=[Delivery.State.PENDING, Delivery.State.FAILED], next_attempt_at__lte=now)


def _not_held(now: datetime) -> Q:
    """No live hold: neither queued (a hold without a token) nor being sent (a lease)."""
    return Q(locked_until__isnull=True) | Q(locked_until__lt=now)


def _lock_skipping_held(queryset):
    """PostgreSQL: lock the rows, skipping any another claimer holds right now, so claimers
    never wait on (or deadlock with) each other. SQLite: the IMMEDIATE transaction (see
    settings) already makes the caller's block exclusive."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def hold(delivery_ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Mark the due, unheld deliveries as queued for ``WEBHOOK_LEASE_SECONDS``; return them.

    Their tasks may claim them at once (a hold has no lease token); the sweeper leaves
    them alone until the hold runs out, so a queue that is slow or down gets one message
    per delivery per hold, not one per sweep.
    """
    now = now or timezone.now()
    ids = list(delivery_ids)
    if not ids:
        return []
    with transaction.atomic():
        due = Delivery.objects.filter(_open_and_due(now), _not_held(now), pk__in=ids)
        won = list(_lock_skipping_held(due).values_list("pk", flat=True))
        # A lease that ran out (its sender died) is dropped with the hold: a late answer
        # from that sender is then only logged, as after any lost lease.
        Delivery.objects.filter(pk__in=won).update(
            locked_until=now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS), lease_token=None
        )
    return won


def unhold(delivery_ids: Iterable[int]) -> None:
    """Drop the hold of deliveries whose task could not be queued: the sweeper retries them."""
    Delivery.objects.filter(pk__in=list(delivery_ids), lease_token__isnull=True).update(
        locked_until=None
    )


def claim(delivery_ids: Iterable[int], now: datetime | None = None) -> list[Outgoing]:
    """Take a lease on each due delivery; skip any another sender holds or that is not due.

    A delivery held for the queue (:func:`hold`) may be claimed: the hold only keeps the
    sweeper from queueing it twice.
    """
    now = now or timezone.now()
    ids = list(delivery_ids)
    if not ids:
        return []
    token = uuid.uuid4()
    with transaction.atomic():
        due = Delivery.objects.filter(
            _open_and_due(now), _not_held(now) | Q(lease_token__isnull=True), pk__in=ids
        )
        won = list(_lock_skipping_held(due).values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=won).update(
            locked_until=now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS), lease_token=token
        )
    claimed: list[Outgoing] = []
    for delivery in Delivery.objects.filter(pk__in=won, lease_token=token).select_related(
        "event", "partner"
    ):
        if not delivery.partner.active:
            Delivery.objects.filter(pk=delivery.pk, lease_token=token).update(
                state=Delivery.State.DEAD, finished_at=now, locked_until=None, lease_token=None
            )
            DeliveryAttempt.objects.create(
                delivery=delivery,
                started_at=now,
                latency_ms=0,
                error="not sent: partner is inactive",
            )
            continue
        body = body_for(delivery)
        claimed.append(
            Outgoing(
                delivery_id=delivery.pk,
                lease_token=token,
                url=delivery.partner.endpoint_url,
                body=body,
                headers=sign(delivery.partner, delivery.webhook_id, body, timezone.now()),
            )
        )
    return claimed


def record(outgoing: Outgoing, result: Result) -> str:
    """Store the attempt and move the delivery on; returns its new state."""
    delivery = Delivery.objects.select_related("partner").filter(pk=outgoing.delivery_id).first()
    if delivery is None:
        return "gone"  # its partner was removed while we were sending
    DeliveryAttempt.objects.create(
        delivery=delivery,
        started_at=result.started_at,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        response_excerpt=result.excerpt,
        error=result.error[:300],
    )
    now = timezone.now()
    attempts = delivery.attempts + 1
    changes: dict = {"attempts": attempts, "last_status": result.status_code}
    if result.ok:
        changes.update(state=Delivery.State.SUCCEEDED, next_attempt_at=None, finished_at=now)
    elif result.status_code == 410:
        changes.update(state=Delivery.State.DEAD, next_attempt_at=None, finished_at=now)
        Partner.objects.filter(pk=delivery.partner_id).update(
            active=False, disabled_reason="endpoint answered 410 Gone"
        )
        logger.warning("Partner %s answered 410 Gone: disabled", delivery.partner_id)
    else:
        delay = next_delay(attempts, result.retry_after)
        if delay is None:
            changes.update(state=Delivery.State.DEAD, next_attempt_at=None, finished_at=now)
            logger.warning("Delivery %s is dead after %s attempts", delivery.pk, attempts)
        else:
            changes.update(
                state=Delivery.State.FAILED, next_attempt_at=now + timedelta(seconds=delay)
            )
            reason = result.error or f"answered {result.status_code}"
            network_failure(f"webhook delivery {delivery.pk}", outgoing.url, reason, delay)
    # Only the lease holder moves the delivery on; a late sender whose lease ran out
    # (and whose delivery was resent) only adds its attempt to the log.
    Delivery.objects.filter(pk=delivery.pk, lease_token=outgoing.lease_token).update(
        locked_until=None, lease_token=None, **changes
    )
    return changes["state"] if "state" in changes else delivery.state


def timeouts() -> tuple[float, float]:
    """(connect, read) from settings, never above the 15 s the contract allows."""
    connect, read = settings.WEBHOOK_TIMEOUT
    return (min(float(connect), MAX_TIMEOUT), min(float(read), MAX_TIMEOUT))


def attempt_deadline() -> float:
    """Wall-clock bound on one attempt: a partner dripping bytes cannot hold us longer."""
    connect, read = timeouts()
    return connect + 2 * read + 5


def send(delivery_id: int) -> str | None:
    """Claim, sign, POST and record one delivery; its new state, or None if it was not
    due or another sender holds it (a duplicate message: nothing to do)."""
    claimed = claim([delivery_id])
    if not claimed:
        # Not due, another sender's, or locked by another writer for a moment (SKIP
        # LOCKED): a row this message was queued for goes back to the sweeper, which
        # queues it again within a second once it is due, instead of staying held for
        # the whole lease. A row another sender leased keeps its lease.
        unhold([delivery_id])
        return None
    (outgoing,) = claimed
    return record(outgoing, post(outgoing))


def due_ids(limit: int, now: datetime | None = None) -> list[int]:
    """Deliveries whose attempt is due and that are neither queued nor being sent."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(_open_and_due(now), _not_held(now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def redeliver(delivery: Delivery) -> None:
    """Send a delivery again from the start of the schedule, with the same webhook-id."""
    Delivery.objects.filter(pk=delivery.pk).update(
        state=Delivery.State.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        finished_at=None,
        locked_until=None,
        lease_token=None,
    )
