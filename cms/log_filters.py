"""Keep log lines short when part of them is chosen by a client.

Django logs every 4xx and 5xx as ``Bad Request: <path>`` (``django.request``), and the
path is whatever the client sent: a screener id of 5,000 digits made a 5 KB line. The
arguments of those records are cut here; the message's own text is Django's and stays
whole.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

#: Characters kept of each argument; a path longer than this is cut and its length noted.
MAX_ARG_CHARS = 200


def _bounded(value: object) -> object:
    if isinstance(value, str) and len(value) > MAX_ARG_CHARS:
        return f"{value[:MAX_ARG_CHARS]}…[{len(value)} chars]"
    return value


class BoundedArgsFilter(logging.Filter):
    """Cut each string argument of a record to ``MAX_ARG_CHARS`` characters."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            record.args = {key: _bounded(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_bounded(value) for value in record.args)
        return True


# --- Quiet, useful logs (issue 17) -------------------------------------------------------
# Celery's own INFO lines that say nothing an operator needs: beat sending a periodic task
# that runs every few seconds, and a worker receiving or finishing one. Each is kept at
# DEBUG (LOG_LEVEL=DEBUG shows them); an idle stack is otherwise silent.
_BEAT_SENDING = "Scheduler: Sending due task"
_RECEIVED = " received"
_SUCCEEDED = " succeeded in "
_RETRY = " retry: "


def _task_name(record: logging.LogRecord) -> str:
    args = record.args
    if isinstance(args, Mapping):
        return str(args.get("name", ""))
    if isinstance(args, tuple) and len(args) >= 2:
        return str(args[1])
    return ""


def _demoted(record: logging.LogRecord) -> bool:
    """Keep a demoted record only when DEBUG is on, and then label it DEBUG."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True
    return False


class QuietTasksFilter(logging.Filter):
    """Drop (demote to DEBUG) Celery's routine lines for frequent periodic tasks.

    * beat's "Sending due task" and the worker's "succeeded" for ``LOG_QUIET_TASKS``
      (every task beat sends more often than once a minute: the sweeps, the tick);
    * the worker's "received" line for every task: the outcome line (succeeded, retry,
      raised) follows it, and for a retried task it doubled the lines per retry;
    * Celery's own retry line for a task whose retry ``cms.task_logs`` already reported
      in one line of its own.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith("celery."):
            return True
        msg = str(record.msg)
        if record.name == "celery.worker.strategy" and _RECEIVED in msg:
            return _demoted(record)
        if _RETRY in msg and isinstance(record.args, Mapping):
            from cms.task_logs import already_reported

            if already_reported(str(record.args.get("id", ""))):
                return False
        if msg.startswith(_BEAT_SENDING) or _SUCCEEDED in msg:
            from django.conf import settings

            if _task_name(record) in getattr(settings, "LOG_QUIET_TASKS", ()):
                return _demoted(record)
        return True


class ExpectedNetworkErrorFilter(logging.Filter):
    """A task that gave up on a network error: one line with the reason, no traceback.

    Celery logs a task's final failure with its traceback; for a partner or hub that is
    down (connection refused, timeout, 5xx) the traceback says nothing new and buried the
    log. The line keeps the task, the address and the reason.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "celery.app.trace" or not record.exc_info:
            return True
        from cms.task_logs import describe_failure, is_expected_network_error

        exc = record.exc_info[1]
        if not is_expected_network_error(exc):
            return True
        args = record.args if isinstance(record.args, Mapping) else {}
        record.msg = "%s gave up: %s"
        record.args = (args.get("name", "task"), describe_failure(exc))
        record.exc_info = None
        record.exc_text = None
        return True


# --- Cache outage (django-redis) ---------------------------------------------------------
class CacheOutageFilter(logging.Filter):
    """django-redis's "Exception ignored": one line at most every ``seconds`` per process.

    With ``DJANGO_REDIS_IGNORE_EXCEPTIONS`` every cache call during a Redis outage logs a
    full traceback; a busy site printed hundreds a second, all saying "Redis is down".
    The first record in each interval is kept as one WARNING line naming the error (the
    outage is handled: reads miss, writes are dropped); the rest are dropped.
    """

    def __init__(self, seconds: float = 60) -> None:
        super().__init__()
        self.seconds = seconds
        self._last: float | None = None
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._last is not None and now - self._last < self.seconds:
                return False
            self._last = now
        exc = record.exc_info[1] if record.exc_info else None
        record.msg = "cache unavailable (%s); carrying on without it"
        record.args = (exc,) if exc else ("unknown error",)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = None
        record.exc_text = None
        return True
