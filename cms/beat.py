"""Celery beat with a lease: run two (or more) beats, only the lease holder sends.

Why: one beat is a single point of failure (nothing is armed once it dies). Every beat
runs this scheduler; the one holding a short lease in the broker's Redis sends, the
others wait. The holder renews the lease on every tick; if it dies (kill -9, host gone),
the lease expires after ``BEAT_LEASE_SECONDS`` and a standby takes it on its next poll
and sends at once: what it sends first is overdue, so the sweep runs right away.

Why not celery-redbeat: it keeps the schedule itself in Redis and needs a ``redis://``
URL of its own; this is the one thing we need from it (the lock) in one small class,
and it works with the embedded broker's unix socket too. A brief overlap (a holder
paused longer than the lease) is harmless: every task beat sends is idempotent, the
scheduler's armed markers de-duplicate wake-ups and the database claim decides each
publish, so nothing is published twice.

Each beat also writes a status file beside its schedule file every tick (``active`` or
``standby``); ``python -m cms.beat --check FILE`` is the container healthcheck: it
passes while the beat process is ticking, whichever role it has.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import uuid
from pathlib import Path

import redis
from celery.beat import PersistentScheduler

logger = logging.getLogger(__name__)

#: The lease's key in the broker's Redis.
LEASE_KEY = "cms:beat:lease"
#: How long a status file may go untouched before ``--check`` calls the beat stuck.
STATUS_MAX_AGE = 30.0

# Renew only if we still hold it; release only our own (another may have taken over).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def redis_for(url: str) -> redis.Redis:
    """A client for the broker URL: ``redis://``, or the embedded broker's unix socket."""
    if url.startswith(("redis+socket://", "unix://")):
        path, _, query = url.split("://", 1)[1].partition("?")
        db = int(query.split("db=", 1)[1].split("&", 1)[0]) if "db=" in query else 0
        return redis.Redis(unix_socket_path=path, db=db, socket_timeout=2)
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class Lease:
    """A Redis lease: SET NX PX to take it, a compare-and-expire to keep it."""

    def __init__(self, client: redis.Redis, key: str, seconds: float) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = int(seconds * 1000)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False

    def hold(self) -> bool:
        """Take or renew the lease; True while this process holds it."""
        if self.held and self.client.eval(_RENEW, 1, self.key, self.token, self.ttl_ms):
            return True
        # Not held, or it lapsed (a Redis that restarted empty): take it if it is free.
        self.held = bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
        return self.held

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if value else None

    def release(self) -> None:
        if self.held:
            self.client.eval(_RELEASE, 1, self.key, self.token)
            self.held = False


class LeasedScheduler(PersistentScheduler):
    """Celery's file-backed scheduler that sends only while it holds the beat lease."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from django.conf import settings

        url = getattr(settings, "BEAT_LEASE_REDIS_URL", "") or self.app.conf.broker_url
        self.lease_seconds = float(getattr(settings, "BEAT_LEASE_SECONDS", 3))
        self.lease = Lease(redis_for(url), LEASE_KEY, self.lease_seconds)
        # A standby polls often enough to take over well within the lease's length.
        self.poll_seconds = min(0.5, self.lease_seconds / 4)
        self.status_path = Path(f"{self.schedule_filename}.lease")
        self._status_written = 0.0
        self._redis_down = False
        self._announced_standby = False

    def tick(self, *args, **kwargs) -> float:
        was_active = self.lease.held
        try:
            active = self.lease.hold()
        except redis.RedisError as exc:
            # The broker's Redis is down: nothing could be sent anyway. One line, not one
            # a poll; the lease expires on its own, so whoever reaches Redis first leads.
            if not self._redis_down:
                logger.warning("beat: lease store unreachable (%s); retrying", exc)
            self._redis_down = True
            self.lease.held = False
            self._write_status("standby")
            return self.poll_seconds
        if self._redis_down:
            logger.info("beat: lease store reachable again")
            self._redis_down = False
        if active and not was_active:
            logger.info("beat: took the lease (%s); sending the schedule", self.lease.token)
        elif was_active and not active:
            logger.warning("beat: lost the lease to %s; standing by", self.lease.holder())
        elif not active and not self._announced_standby:
            logger.info("beat: standing by; %s holds the lease", self.lease.holder())
            self._announced_standby = True
        self._write_status("active" if active else "standby")
        if not active:
            return self.poll_seconds
        self._announced_standby = False
        interval = super().tick(*args, **kwargs)
        # Wake often enough to renew well before the lease runs out.
        return min(interval, self.lease_seconds / 3)

    def _write_status(self, role: str) -> None:
        now = time.monotonic()
        if now - self._status_written < 1:
            return
        try:
            self.status_path.write_text(f"{role} {self.lease.token}\n")
            self._status_written = now
        except OSError:  # a read-only or full disk must not stop the schedule
            pass

    def close(self) -> None:
        """On a clean stop, hand the lease over at once instead of letting it expire."""
        try:
            self.lease.release()
        except redis.RedisError:
            pass
        super().close()


def check(path: str, max_age: float = STATUS_MAX_AGE) -> int:
    """Healthcheck exit status: 0 while the beat writing ``path`` is ticking."""
    try:
        age = time.time() - os.path.getmtime(path)
    except OSError:
        print(f"no beat status file at {path}")
        return 1
    if age > max_age:
        print(f"beat status {path} is {age:.0f} s old")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    print("usage: python -m cms.beat --check SCHEDULE_FILE.lease")
    sys.exit(2)
