"""Sending deliveries: claim, sign, POST, record, schedule the retry.

The database is the source of truth. A sender first *claims* a delivery with a lease
(a row lock with SKIP LOCKED, so two workers never send the same attempt), sends
without holding any database lock, then records the attempt only if it still holds the
lease. A sender that dies simply lets its lease run out; the sweeper then sends again.
Partners may therefore see a delivery twice; the stable ``webhook-id`` lets them drop it.

HTTP runs in a thread pool; no database work happens in those threads, so a hanging
partner ties up one thread, never a database connection or the other sends. In a worker
the calling task waits only briefly (``wait``): answers slower than that are recorded by
one background thread, so a hanging partner never holds a Celery pool slot either.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks import Webhook

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
    """Everything one HTTP attempt needs, detached from the ORM for the worker thread."""

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
    """One HTTP attempt. Runs in a worker thread: no database access here, and it never
    raises, so one partner's odd answer cannot stop the others' results being recorded."""
    started_at = timezone.now()
    clock = time.monotonic()

    def failed(error: str) -> Result:
        latency_ms = int((time.monotonic() - clock) * 1000)
        return Result(started_at=started_at, latency_ms=latency_ms, error=error[:300])

    try:
        with make_session() as session:
            response = session.post(
                outgoing.url,
                data=outgoing.body.encode(),
                headers=outgoing.headers,
                timeout=timeouts(),
                allow_redirects=False,
                stream=True,
            )
            raw = read_excerpt(response, clock)
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


def claim(delivery_ids: Iterable[int], now: datetime | None = None) -> list[Outgoing]:
    """Take a lease on each due delivery; skip any another sender holds or that is not due."""
    now = now or timezone.now()
    ids = list(delivery_ids)
    if not ids:
        return []
    token = uuid.uuid4()
    with transaction.atomic():
        # PostgreSQL: lock the due rows, skipping any another claimer holds right now, so
        # claimers never wait on (or deadlock with) each other. SQLite: the IMMEDIATE
        # transaction (see settings) already makes this block exclusive.
        due = Delivery.objects.filter(
            pk__in=ids,
            state__in=[Delivery.State.PENDING, Delivery.State.FAILED],
            next_attempt_at__lte=now,
        ).filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        won = list(due.values_list("pk", flat=True))
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


def deliver(delivery_ids: Iterable[int], wait: float | None = None) -> dict[int, str]:
    """Claim and send the given deliveries concurrently; returns each recorded id's new state.

    ``wait`` bounds how long the caller waits for answers (None: until every attempt has
    ended). Answers that come later are recorded by a background thread, so a hanging
    partner never holds the caller, a Celery pool slot, for its whole timeout: with a few
    slots, it would otherwise hold up every other partner's deliveries and the scheduler's
    publishes queued behind them.
    """
    claimed = claim(delivery_ids)
    if not claimed:
        return {}
    states: dict[int, str] = {}
    workers = max(1, min(len(claimed), settings.WEBHOOK_MAX_CONCURRENCY))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
    futures = {pool.submit(post, outgoing): outgoing for outgoing in claimed}
    started = timezone.now()
    clock = time.monotonic()
    deadline = attempt_deadline()
    if wait is not None and wait < deadline:
        _collect(futures, states, wait)
        if futures:
            threading.Thread(
                target=_finish_in_background,
                args=(pool, futures, started, deadline - (time.monotonic() - clock)),
                name="webhook-finisher",
                daemon=True,
            ).start()
            return states
    try:
        _collect(futures, states, deadline)
        _record_timeouts(futures, states, started)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return states


def _collect(futures: dict, states: dict[int, str], timeout: float) -> None:
    """Record each answer as it arrives, for at most ``timeout`` s; removes what it recorded."""
    try:
        for future in as_completed(list(futures), timeout=max(timeout, 0.0)):
            outgoing = futures.pop(future)
            states[outgoing.delivery_id] = record(outgoing, future.result())
    except FuturesTimeout:
        pass


def _record_timeouts(futures: dict, states: dict[int, str], started: datetime) -> None:
    """Still unanswered after the deadline: log them as timed out. Their threads end at the
    next socket timeout; their late results are discarded."""
    for outgoing in futures.values():
        result = Result(
            started_at=started,
            latency_ms=int((timezone.now() - started).total_seconds() * 1000),
            error=f"timeout: no complete answer within {attempt_deadline():.0f} s",
        )
        states[outgoing.delivery_id] = record(outgoing, result)


def _finish_in_background(
    pool: ThreadPoolExecutor, futures: dict, started: datetime, remaining: float
) -> None:
    """Record the slow answers (or their timeouts) once they come, off the caller's thread.

    If the process dies first, the leases run out and the sweeper sends those again with
    the same webhook-id, as after any crash.
    """
    try:
        states: dict[int, str] = {}
        _collect(futures, states, remaining)
        _record_timeouts(futures, states, started)
    except Exception:  # noqa: BLE001 - the lease expires and the sweeper resends
        logger.exception("Could not record late webhook results")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        connections.close_all()  # this thread's connections only


def due_ids(limit: int, now: datetime | None = None) -> list[int]:
    """Deliveries whose attempt is due and that no live sender holds."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(
            state__in=[Delivery.State.PENDING, Delivery.State.FAILED], next_attempt_at__lte=now
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
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
