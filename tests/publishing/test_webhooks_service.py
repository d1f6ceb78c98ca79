"""Nothing lost: real worker, real beat, real Redis, a receiver on loopback.

A worker killed mid-send and a broker that forgets its queue both end with the delivery
sent later (at least once, same webhook-id), because the database outbox is the truth.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cms.models import Author
from publishing.models import Delivery
from tests.cms.test_site import make_post
from tests.publishing.receivers import HANG
from tests.services import redis_client, wait_until


@pytest.fixture
def webhook_env(celery_env):
    """Worker and beat settings: loopback allowed, a short lease so the test is quick."""
    celery_env.update(
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        WEBHOOK_LEASE_SECONDS="3",
        WEBHOOK_READ_TIMEOUT="15",
    )
    return celery_env


def state_of(delivery_id: int) -> str:
    return Delivery.objects.get(pk=delivery_id).state


@pytest.mark.services
def test_worker_killed_mid_delivery_is_delivered_later(
    webhook_env, celery_processes, seed, receivers, make_partner
):
    receiver = receivers()
    receiver.answer(HANG)  # the first request never gets an answer
    make_partner(receiver)
    worker = celery_processes("worker")
    make_post(
        seed["blog"], "Killed mid-send", dt.date(2024, 1, 1), Author.objects.get(slug="dr-pan")
    )
    delivery = Delivery.objects.get()

    wait_until(lambda: receiver.received, 60, what="the worker to start sending")
    worker.kill9()  # dies holding the lease, mid-request
    assert state_of(delivery.pk) == Delivery.State.PENDING

    celery_processes("worker")
    celery_processes("beat")
    wait_until(
        lambda: state_of(delivery.pk) == Delivery.State.SUCCEEDED,
        90,
        what="the sweeper to resend after the lease ran out",
    )
    assert len(receiver.received) == 2
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery.webhook_id}
    assert all(r.verify_error == "" for r in receiver.received)


@pytest.mark.services
def test_broker_that_lost_its_queue_still_delivers(
    webhook_env, celery_processes, broker_url, seed, receivers, make_partner
):
    receiver = receivers()
    make_partner(receiver)
    # Published while no worker runs: the hint waits in Redis...
    make_post(seed["blog"], "Lost hint", dt.date(2024, 1, 1), Author.objects.get(slug="dr-pan"))
    client = redis_client(broker_url)
    assert client.dbsize() > 0
    client.flushdb()  # ...and Redis restarts without persistence.

    celery_processes("worker")
    celery_processes("beat")
    delivery = Delivery.objects.get()
    wait_until(
        lambda: state_of(delivery.pk) == Delivery.State.SUCCEEDED,
        90,
        what="the sweeper to send the delivery whose message was lost",
    )
    assert len(receiver.received) == 1 and receiver.received[0].verify_error == ""
