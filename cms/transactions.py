"""One batch of work per open database transaction, flushed once when it commits.

Several signals fire for one publish (the page row saved, ``page_published``, a view
restriction...). Each asks here for the transaction's batch under a key and adds to it
(:func:`batch`); once the transaction commits, the batch is flushed, once. A
rolled-back transaction runs nothing.

How: every use adds a *segment* (a fresh object from the factory) and registers an
``on_commit`` callback for it. The first callback to run merges its own segment with
every later one and flushes the result; the rest find the batch done. In a real commit
that is the first segment, so one flush covers the whole transaction. A segment whose
callback never runs is dropped with it: one rolled back with a savepoint, or one from
before a test's ``captureOnCommitCallbacks`` block, exactly as Django drops the
callback. Outside a transaction (autocommit) a segment is flushed as soon as the
caller is done with it.

The one Django detail read here, ``connection.run_on_commit`` (the pending callbacks,
which ``captureOnCommitCallbacks`` reads too), is read only in :func:`_registered`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

from django.db import transaction


class Batch(Protocol):
    def merge(self, later: Batch) -> None: ...

    def flush(self) -> None: ...


B = TypeVar("B", bound=Batch)

_local = threading.local()


class _Entry:
    """A transaction's segments under one key; ``done`` once one callback flushed them."""

    def __init__(self) -> None:
        self.segments: list[Batch] = []
        self.done = False
        self.token = uuid.uuid4().hex[:12]

    def add(self, segment: Batch) -> None:
        self.segments.append(segment)
        transaction.on_commit(partial(self.run, len(self.segments) - 1), robust=True)

    def run(self, index: int = 0) -> None:
        if self.done:
            return
        self.done = True
        first, *later = self.segments[index:]
        for segment in later:
            first.merge(segment)
        first.flush()


def _registered(entry: _Entry) -> bool:
    connection = transaction.get_connection()
    return (
        not entry.done
        and connection.in_atomic_block
        and any(
            getattr(func, "func", None) == entry.run
            for _sids, func, _robust in connection.run_on_commit
        )
    )


@contextmanager
def batch(key: str, factory: Callable[[], B]) -> Iterator[B]:
    """A segment of the current transaction's batch for ``key``, to add to."""
    segment = factory()
    if not transaction.get_connection().in_atomic_block:
        yield segment
        segment.flush()
        return
    entry = getattr(_local, key, None)
    if entry is None or not _registered(entry):
        entry = _Entry()
        setattr(_local, key, entry)
    entry.add(segment)
    yield segment


@dataclass
class _List:
    """A batch that is a list of items, handed to ``send`` in one call."""

    send: Callable[[list], None]
    items: list = field(default_factory=list)

    def merge(self, later: _List) -> None:
        self.items += later.items

    def flush(self) -> None:
        if self.items:
            self.send(self.items)


def append(key: str, send: Callable[[list], None], item: Any) -> None:
    """Add ``item`` to the transaction's list under ``key``; once it commits, ``send``
    gets the whole list in one call (at once outside a transaction)."""
    with batch(key, partial(_List, send)) as pending:
        pending.items.append(item)


def pending_marker(key: str) -> str | None:
    """Names the open transaction's batch for ``key`` and how many uses it has had, or None."""
    entry = getattr(_local, key, None)
    if entry is None or not _registered(entry):
        return None
    return f"{entry.token}.{len(entry.segments)}"


def flush_now(key: str) -> None:
    """Flush the latest batch for ``key`` now if it has not been (after its commit)."""
    entry = getattr(_local, key, None)
    if entry is not None:
        entry.run()
