"""Fixtures for the webhook tests: loopback receivers and partners pointed at them."""

from __future__ import annotations

import pytest

from tests.publishing.receivers import Receiver


@pytest.fixture
def loopback_allowed(settings):
    """Let partners use 127.0.0.0/8, as the issue says tests do (empty in production)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_TIMEOUT = (2.0, 2.0)
    return settings


@pytest.fixture
def receivers():
    """Start receivers on demand; all are shut down at the end of the test."""
    started: list[Receiver] = []

    def start(**kwargs) -> Receiver:
        receiver = Receiver(**kwargs).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def make_partner(loopback_allowed):
    """A saved, validated partner whose receiver verifies with its secret."""
    from publishing.models import Partner

    def make(receiver, name: str | None = None, **fields) -> Partner:
        partner = Partner(
            name=name or f"partner-{receiver.port}", endpoint_url=receiver.url, **fields
        )
        partner.full_clean()
        partner.save()
        receiver.secret = partner.secret
        return partner

    return make
