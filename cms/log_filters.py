"""Keep log lines short when part of them is chosen by a client.

Django logs every 4xx and 5xx as ``Bad Request: <path>`` (``django.request``), and the
path is whatever the client sent: a screener id of 5,000 digits made a 5 KB line. The
arguments of those records are cut here; the message's own text is Django's and stays
whole.
"""

from __future__ import annotations

import logging
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
