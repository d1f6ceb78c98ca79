"""One line per expected network failure of a task: what, where, when it is tried again.

A WebSub hub or any other HTTP endpoint a task calls may be down; the task retries
(Celery's autoretry). Celery's own retry line is a nested repr of the exception chain;
this says the same in one readable line, e.g.::

    ping_hub to http://hub.example/ failed (NewConnectionError: … Connection refused);
    Retry in 4 s (retry 2 of 8)

and cms.log_filters drops Celery's line for that retry. Which exceptions count as
expected: anything from ``requests``, socket errors, and the classes named (by dotted
path, so cms imports no app) in ``settings.LOG_EXPECTED_NETWORK_ERRORS``.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from urllib.parse import urlsplit, urlunsplit

import requests
from celery.signals import task_retry

logger = logging.getLogger("cms.tasks")

# Task ids whose current retry was reported here (this process; a few hundred at most).
_reported: OrderedDict[str, None] = OrderedDict()
_REMEMBER = 512


def already_reported(task_id: str) -> bool:
    """True once for a task id whose retry this module logged (the caller drops its own)."""
    return _reported.pop(task_id, 1) is None


def is_expected_network_error(exc: BaseException | None) -> bool:
    if exc is None:
        return False
    if isinstance(exc, requests.RequestException | ConnectionError | TimeoutError):
        return True
    from django.conf import settings

    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return name in getattr(settings, "LOG_EXPECTED_NETWORK_ERRORS", ())


def _innermost(exc: BaseException) -> BaseException:
    """requests wraps urllib3 wraps socket errors: the last one says what happened."""
    seen = {id(exc)}
    while True:
        reason = getattr(exc, "reason", None)
        inner = reason if isinstance(reason, BaseException) else None
        if inner is None and exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if inner is None or id(inner) in seen:
            return exc
        seen.add(id(inner))
        exc = inner


def _short(exc: BaseException) -> str:
    """``NewConnectionError: … Connection refused``: the innermost error, without its host."""
    inner = _innermost(exc)
    # urllib3: "HTTPConnection(host=…, port=…): Failed to establish…: [Errno 111] …"
    text = str(inner).rsplit("): ", 1)[-1]
    return f"{type(inner).__name__}: {text[:200]}"


def describe_failure(exc: BaseException) -> str:
    """The short reason, and the URL when the exception knows it."""
    where = _url_of(exc)
    return _short(exc) + (f" ({where})" if where else "")


def _url_of(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    return str(getattr(request, "url", "") or "")


def _target(request, exc: BaseException) -> str:
    """Where the task was talking to: the exception's URL, else its first URL argument."""
    for arg in getattr(request, "args", None) or ():
        if isinstance(arg, str) and arg.startswith(("http://", "https://")):
            return arg
    return _url_of(exc) or "?"


@task_retry.connect
def _log_retry(sender=None, request=None, reason=None, **kwargs) -> None:
    exc = getattr(reason, "exc", None)
    if not is_expected_network_error(exc):
        return  # Celery's own line stays for anything unexpected
    when = getattr(reason, "when", None)
    delay = f"{when:.0f} s" if isinstance(when, int | float) else str(when or "soon")
    retries = (getattr(request, "retries", 0) or 0) + 1
    limit = getattr(sender, "max_retries", None)
    name = (getattr(sender, "name", "") or "task").rsplit(".", 1)[-1]
    logger.warning(
        "%s to %s failed (%s); Retry in %s (retry %s%s)",
        name,
        _target(request, exc),
        _short(exc),
        delay,
        retries,
        f" of {limit}" if limit is not None else "",
    )
    _reported[str(getattr(request, "id", ""))] = None
    while len(_reported) > _REMEMBER:
        _reported.popitem(last=False)


def network_failure(what: str, url: str, reason: str, retry_in: float | None) -> None:
    """One line for a failed call to a partner or hub that is retried later (or not).

    The query string is left out: a partner's URL may carry its own token there.
    """
    parts = urlsplit(url)
    where = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if parts.query:
        reason = reason.replace(f"?{parts.query}", "")
    # urllib3's nested "…(Caused by NewConnectionError(…: [Errno 111] Connection refused"))"
    errno = re.search(r"\[Errno -?\d+\] [^'\"()]+", reason)
    reason = errno.group(0).strip() if errno else reason
    after = f"retry in {retry_in:.0f} s" if retry_in is not None else "no retry left"
    logger.warning("%s to %s failed (%s); %s", what, where, reason[:200], after)
