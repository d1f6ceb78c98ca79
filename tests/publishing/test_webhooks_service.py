"""Nothing lost: real workers, real beat, real Redis, receivers on loopback.

An I/O worker (the one that sends) killed mid-send and a broker that forgets its queue
both end with the delivery sent later (at least once, same webhook-id), because the
database outbox is the truth. Sends run on the I/O worker's threads, so partners that hang
hold none of the prefork worker's slots a scheduled publish needs.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from cms.models import Author
from publishing.models import Delivery, WebhookEvent
from tests.factories import make_post
from tests.publishing.publish import (
    assert_published_once,
    live_count,
    schedule_posts,
)
from tests.publishing.receivers import HANG
from tests.services import redis_client, wait_until


@pytest.fixture
def webhook_env(celery_env, settings):
    """Worker and beat settings: loopback allowed, a short lease so the test is quick.

    This process holds the deliveries its own publishes queue, so it gets the same lease.
    """
    celery_env.update(
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        WEBHOOK_LEASE_SECONDS="3",
        WEBHOOK_READ_TIMEOUT="15",
    )
    settings.WEBHOOK_LEASE_SECONDS = 3
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
    io_worker = celery_processes("worker-io")  # the one that sends
    celery_processes("worker")
    make_post(
        seed["blog"], "Killed mid-send", dt.date(2024, 1, 1), Author.objects.get(slug="dr-pan")
    )
    delivery = Delivery.objects.get()

    wait_until(lambda: receiver.received, 60, what="the I/O worker to start sending")
    io_worker.kill9()  # dies holding the lease, mid-request
    assert state_of(delivery.pk) == Delivery.State.PENDING

    celery_processes("worker-io")
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


@pytest.mark.services
@pytest.mark.timeout(240)
def test_hanging_partners_hold_io_threads_not_publishes_and_a_killed_io_worker_loses_nothing(
    webhook_env, celery_processes, seed, receivers, make_partner, settings
):
    """20 partners, 5 of which hang: the 15 others hear at once, a scheduled publish on the
    prefork worker is on time while the 5 sends are still in flight on the I/O worker's
    threads, and a kill -9 of the I/O worker mid-send loses none of them."""
    # Longer than the scheduled publish below takes, so the hanging sends are still leased
    # and in flight when the I/O worker is killed; then the sweeper resends them.
    webhook_env["WEBHOOK_LEASE_SECONDS"] = "20"
    settings.WEBHOOK_LEASE_SECONDS = 20
    healthy = [receivers() for _ in range(15)]
    hanging = [receivers() for _ in range(5)]
    for receiver in hanging:
        receiver.answer(HANG)  # the first request only; a resend gets 200
    for receiver in healthy + hanging:
        make_partner(receiver)
    io_worker = celery_processes("worker-io")
    celery_processes("worker")
    celery_processes("beat")
    author = Author.objects.get(slug="dr-pan")

    scheduled = schedule_posts(
        seed["blog"], [timezone.now() + dt.timedelta(seconds=8)], "Due while partners hang"
    )
    started = time.monotonic()
    make_post(seed["blog"], "Twenty partners", dt.date(2024, 1, 1), author)
    event = WebhookEvent.objects.get(page_title="Twenty partners")
    first = Delivery.objects.filter(event=event)
    assert first.count() == 20

    wait_until(
        lambda: all(r.received for r in healthy + hanging),
        15,
        what="every partner, the 5 hanging ones included, to be called",
    )
    wait_until(
        lambda: first.filter(state=Delivery.State.SUCCEEDED).count() == 15,
        15,
        what="the 15 partners that answer to be delivered",
    )
    delivered_in = time.monotonic() - started

    wait_until(lambda: live_count(scheduled) == 1, 30, what="the scheduled page to go live")
    (lateness,) = assert_published_once(scheduled)
    # Still in flight: no attempt recorded, the lease of a live sender on each.
    in_flight = first.exclude(state=Delivery.State.SUCCEEDED)
    assert in_flight.count() == 5
    assert all(
        d.attempts == 0 and d.lease_token is not None and d.locked_until > timezone.now()
        for d in in_flight
    ), "the hanging sends ended before the scheduled publish; nothing was shown"
    print(f"\n15 partners delivered {delivered_in:.1f} s after the publish; scheduled page "
          f"{lateness:.2f} s late while 5 sends hung")  # fmt: skip
    # Generous for a shared 2-core machine (as the scheduler service tests); a publish
    # queued behind the hanging sends would be ~15 s late (the read timeout).
    assert lateness < 5, lateness
    assert delivered_in < 10, delivered_in

    io_worker.kill9()  # mid-send: the five leases are held by a process that is gone
    assert in_flight.count() == 5 and all(d.attempts == 0 for d in in_flight)
    celery_processes("worker-io")  # as the supervisor or compose would restart it
    wait_until(
        lambda: not Delivery.objects.exclude(state=Delivery.State.SUCCEEDED).exists(),
        90,
        what="the sweeper to resend the killed sends after their lease",
    )
    for receiver in hanging:
        ids = [r.headers["webhook-id"] for r in receiver.received]
        assert ids.count(event.webhook_id) == 2, ids  # the hung one, then the resend
    for receiver in healthy:
        ids = [r.headers["webhook-id"] for r in receiver.received]
        assert ids.count(event.webhook_id) == 1, ids
    assert all(r.verify_error == "" for each in healthy + hanging for r in each.received)
