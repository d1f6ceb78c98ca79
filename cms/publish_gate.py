"""The one question every publish path asks: may this revision go live?

``cms`` owns the question, not the answer: page types call :func:`check` from their
``publish()`` (and their ``save()`` as a backstop), and the apps that know the answer
(clinical governance, in ``publishing.governance``) register a gate at ``ready()``. So
``cms`` never imports them, and every path that publishes a page — the admin, API v3,
``revision.publish()`` from code, the scheduler, a release — meets the same gate.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied

#: ``gate(revision, obj) -> reason or None``: why ``revision`` of ``obj`` must not go live.
Gate = Callable[[Any, Any], str | None]
#: ``workflow_for(page) -> Workflow or None``: the workflow a page type's policy requires.
WorkflowChooser = Callable[[Any], Any]

_gates: list[Gate] = []
_workflow_choosers: list[WorkflowChooser] = []
_system_action: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "publish_gate_system_action", default=None
)


class PublishRefused(PermissionDenied):
    """A publish the gate refused; the message says why, in words an editor can act on."""


def register_gate(gate: Gate) -> Gate:
    """Add a gate (idempotent, so a second ``ready()`` in tests adds nothing)."""
    if gate not in _gates:
        _gates.append(gate)
    return gate


def register_workflow_chooser(chooser: WorkflowChooser) -> WorkflowChooser:
    if chooser not in _workflow_choosers:
        _workflow_choosers.append(chooser)
    return chooser


def enforced() -> bool:
    """Off only inside :func:`system_action` or when a test switches the setting off."""
    return _system_action.get() is None and getattr(settings, "PUBLISH_GATE_ENFORCED", True)


@contextmanager
def system_action(reason: str) -> Iterator[None]:
    """Publish without the gate, for the seed loader only: the content it publishes is
    marked "not yet signed off" and listed for sign-off. ``reason`` is for the reader."""
    token = _system_action.set(reason)
    try:
        yield
    finally:
        _system_action.reset(token)


def refusal(revision: Any, obj: Any) -> str | None:
    """The first gate's reason why ``revision`` of ``obj`` must not go live, or None."""
    if not enforced():
        return None
    for gate in _gates:
        reason = gate(revision, obj)
        if reason:
            return reason
    return None


def check(revision: Any, obj: Any) -> None:
    """Raise :class:`PublishRefused` when a gate refuses this revision."""
    reason = refusal(revision, obj)
    if reason:
        raise PublishRefused(reason)


def required_workflow(page: Any) -> Any:
    """The workflow a registered policy requires for ``page``, or None."""
    for chooser in _workflow_choosers:
        workflow = chooser(page)
        if workflow is not None:
            return workflow
    return None
