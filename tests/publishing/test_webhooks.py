"""Partner webhooks end to end in-process: real loopback receivers, eager Celery.

Every receiver verifies signatures with the ``standardwebhooks`` library, as a partner would.
"""

from __future__ import annotations

import datetime as dt
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time
from standardwebhooks import Webhook
from wagtail.models import PageViewRestriction

from cms.models import Author
from publishing.models import Delivery, Partner, WebhookEvent
from publishing.webhooks import delivery as sender
from publishing.webhooks.tasks import prune_delivery_log, sweep_deliveries
from tests.factories import make_post
from tests.publishing.receivers import HANG, free_port
from tests.services import wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def pan(seed):
    return Author.objects.get(slug="dr-pan")


def publish_post(seed, pan, capture, title="Exercise during chemotherapy", **kwargs):
    with capture(execute=True):
        return make_post(seed["blog"], title, dt.date(2024, 5, 1), pan, **kwargs)


def test_first_publish_is_signed_and_carries_the_page_as_the_api_shows_it(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    partner = make_partner(receiver)
    post = publish_post(seed, pan, django_capture_on_commit_callbacks, tags=["nutrition"])

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.verify_error == ""
    payload = got.payload
    assert payload["type"] == "page.published"
    assert payload["event_id"] and payload["occurred_at"]
    data = payload["data"]
    assert data["id"] == post.pk and data["type"] == "cms.BlogPostPage"
    assert data["title"] == "Exercise during chemotherapy"
    assert data["url"] == "http://testserver" + post.url
    assert data["summary"] == "Summary of Exercise during chemotherapy"
    assert data["tags"] == ["nutrition"]
    assert [a["name"] for a in data["authors"]] == ["Dr. Pan"]
    assert data["published_at"] and data["updated_at"] and data["version"] == 1
    assert got.headers["webhook-id"].startswith("msg_")
    assert got.headers["webhook-signature"].startswith("v1,")
    assert got.headers["content-type"] == "application/json"
    delivery = Delivery.objects.get(partner=partner)
    assert delivery.state == Delivery.State.SUCCEEDED and delivery.attempts == 1
    assert delivery.webhook_id == got.headers["webhook-id"]
    attempt = delivery.attempt_log.get()
    assert attempt.status_code == 200 and attempt.response_excerpt == "thanks"


def test_html_links_are_absolute(seed, receivers, make_partner, django_capture_on_commit_callbacks):
    receiver = receivers()
    make_partner(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        seed["post"].save_revision().publish()
    html = receiver.received[0].payload["data"]["html"]
    assert "<h2>Aromatase inhibitor</h2>" in html
    assert 'href="/' not in html and 'src="/' not in html
    assert "<script" not in html


def test_new_revision_of_a_live_page_is_an_update_with_a_higher_version(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    make_partner(receiver)
    post = publish_post(seed, pan, django_capture_on_commit_callbacks)
    post.title = "Exercise during chemotherapy (revised)"
    with django_capture_on_commit_callbacks(execute=True):
        post.save_revision().publish()

    first, second = (r.payload for r in receiver.received)
    assert first["type"] == "page.published" and second["type"] == "page.updated"
    assert second["data"]["title"] == "Exercise during chemotherapy (revised)"
    assert second["data"]["version"] > first["data"]["version"]
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == 2


def test_seed_page_published_before_webhooks_existed_counts_as_an_update(
    seed, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    make_partner(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        seed["post"].save_revision().publish()
    assert receiver.received[0].payload["type"] == "page.updated"


def test_unpublish_sends_only_identity_never_content(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    make_partner(receiver)
    post = publish_post(seed, pan, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        post.unpublish()
    payload = receiver.received[-1].payload
    assert payload["type"] == "page.unpublished"
    assert set(payload["data"]) == {"id", "type", "title", "url", "version"}
    assert payload["data"]["id"] == post.pk and payload["data"]["version"] == 2
    # Unpublishing again tells partners nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        post.unpublish()
    assert len(receiver.received) == 2


def test_scheduled_publish_and_expiry_fire_published_then_unpublished(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    make_partner(receiver)
    soon = timezone.now() + timedelta(hours=1)
    post = publish_post(seed, pan, django_capture_on_commit_callbacks, go_live_at=soon)
    assert receiver.received == []  # scheduled for later: nothing public yet

    # The hour passes: Wagtail's scheduler publishes it, then it expires.
    with freeze_time(soon + timedelta(minutes=1), tick=True):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("publish_scheduled")
        assert [r.payload["type"] for r in receiver.received] == ["page.published"]

        post.refresh_from_db()
        post.expire_at = timezone.now() - timedelta(seconds=1)
        post.save()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("publish_scheduled")
    assert [r.payload["type"] for r in receiver.received] == ["page.published", "page.unpublished"]


def test_making_a_section_private_unpublishes_its_pages_and_lifting_it_republishes(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    make_partner(receiver)
    post = publish_post(seed, pan, django_capture_on_commit_callbacks)
    receiver.received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        restriction = PageViewRestriction.objects.create(
            page=seed["blog"], restriction_type=PageViewRestriction.PASSWORD, password="x"
        )
    unpublished = {r.payload["data"]["id"] for r in receiver.received}
    assert post.pk in unpublished and seed["blog"].pk in unpublished
    assert all(r.payload["type"] == "page.unpublished" for r in receiver.received)
    assert all("html" not in r.payload["data"] for r in receiver.received)

    # Publishing a private page sends nothing: its content must not leave.
    receiver.received.clear()
    post.title = "Secret edit"
    with django_capture_on_commit_callbacks(execute=True):
        post.save_revision().publish()
    assert receiver.received == []

    with django_capture_on_commit_callbacks(execute=True):
        restriction.delete()
    republished = {r.payload["data"]["id"]: r.payload for r in receiver.received}
    assert republished[post.pk]["type"] == "page.published"
    assert republished[post.pk]["data"]["title"] == "Secret edit"


def test_partners_get_only_the_content_types_and_tags_they_asked_for(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    everything, events_only, nutrition = receivers(), receivers(), receivers()
    make_partner(everything)
    make_partner(events_only, content_types=["events"])
    make_partner(nutrition, content_types=["blog"], tags=["Nutrition"])
    publish_post(seed, pan, django_capture_on_commit_callbacks, title="Tagged", tags=["nutrition"])
    publish_post(seed, pan, django_capture_on_commit_callbacks, title="Untagged")
    assert [r.payload["data"]["title"] for r in everything.received] == ["Tagged", "Untagged"]
    assert events_only.received == []
    assert [r.payload["data"]["title"] for r in nutrition.received] == ["Tagged"]


def test_inactive_partner_gets_nothing(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    make_partner(receiver, active=False)
    publish_post(seed, pan, django_capture_on_commit_callbacks)
    assert receiver.received == [] and not Delivery.objects.exists()


def test_rolled_back_publish_leaves_no_delivery(seed, pan, receivers, make_partner):
    receiver = receivers()
    make_partner(receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_post(seed["blog"], "Never happened", dt.date(2024, 1, 1), pan)
        assert Delivery.objects.count() == 1  # written with the publish...
        raise RuntimeError
    assert Delivery.objects.count() == 0  # ...and gone with it
    assert receiver.received == []


def test_500_is_retried_with_the_same_webhook_id_until_it_succeeds(
    seed, pan, receivers, make_partner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS = [0.2, 0.2, 0.2]
    receiver = receivers()
    receiver.answer((500, {}, b"database is down"), (502, {}, b"bad gateway"))
    make_partner(receiver)
    publish_post(seed, pan, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED and delivery.next_attempt_at > timezone.now()
    wait_until(
        lambda: (
            sweep_deliveries() is not None
            and Delivery.objects.get().state == Delivery.State.SUCCEEDED
        ),
        15,
        what="the retries to succeed",
    )
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert all(r.verify_error == "" for r in receiver.received)
    log = list(Delivery.objects.get().attempt_log.values_list("status_code", "response_excerpt"))
    assert log == [(500, "database is down"), (502, "bad gateway"), (200, "thanks")]


def test_receiver_down_then_up_is_delivered_after_retry(
    seed, pan, receivers, make_partner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS = [0.3, 0.3, 0.3]
    port = free_port()
    down = Partner(name="down", endpoint_url=f"http://127.0.0.1:{port}/hooks")
    down.full_clean()
    down.save()
    publish_post(seed, pan, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED
    assert "connect" in delivery.attempt_log.get().error.lower()

    receiver = receivers(port=port, secret=down.secret)
    wait_until(
        lambda: sweep_deliveries() is not None and receiver.received,
        15,
        what="the retry to reach the receiver",
    )
    assert receiver.received[0].verify_error == ""
    assert Delivery.objects.get().state == Delivery.State.SUCCEEDED


def test_after_the_last_attempt_the_delivery_is_dead(
    seed, pan, receivers, make_partner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS = [0, 0]
    receiver = receivers(default=(500, {}, b"nope"))
    make_partner(receiver)
    publish_post(seed, pan, django_capture_on_commit_callbacks)
    wait_until(
        lambda: (
            sweep_deliveries() is not None and Delivery.objects.get().state == Delivery.State.DEAD
        ),
        15,
        what="the delivery to die",
    )
    delivery = Delivery.objects.get()
    assert delivery.attempts == 3 and delivery.next_attempt_at is None
    assert len(receiver.received) == 3
    assert sweep_deliveries() == 0  # dead is final until someone redelivers


def test_410_gone_disables_the_partner(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers(default=(410, {}, b"gone"))
    partner = make_partner(receiver)
    publish_post(seed, pan, django_capture_on_commit_callbacks)
    partner.refresh_from_db()
    assert not partner.active and "410" in partner.disabled_reason
    assert Delivery.objects.get().state == Delivery.State.DEAD
    publish_post(seed, pan, django_capture_on_commit_callbacks, title="Later post")
    assert len(receiver.received) == 1


def test_429_retry_after_is_honoured_instead_of_the_schedule(
    seed, pan, receivers, make_partner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS = [3600]
    receiver = receivers()
    receiver.answer((429, {"Retry-After": "1"}, b"slow down"))
    make_partner(receiver)
    before = timezone.now()
    publish_post(seed, pan, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED and delivery.last_status == 429
    assert delivery.next_attempt_at - before < timedelta(seconds=30)  # not the hour
    wait_until(
        lambda: (
            sweep_deliveries() is not None
            and Delivery.objects.get().state == Delivery.State.SUCCEEDED
        ),
        15,
        what="the retry after Retry-After",
    )
    assert len(receiver.received) == 2


def test_retry_after_as_http_date_and_garbage():
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert sender.parse_retry_after("Thu, 01 Jan 2026 12:02:00 GMT", now) == 120
    assert sender.parse_retry_after("120", now) == 120
    assert sender.parse_retry_after("soon", now) is None
    assert sender.parse_retry_after("99999999", now) == sender.MAX_RETRY_AFTER


def test_redirect_is_not_followed_and_counts_as_failure(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    target = receivers()
    receiver = receivers(default=(302, {"Location": target.url}, b""))
    make_partner(receiver)
    publish_post(seed, pan, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED and delivery.last_status == 302
    assert "not followed" in delivery.attempt_log.get().error
    assert target.received == []


def test_a_hanging_partner_does_not_delay_a_healthy_one(
    seed, pan, receivers, make_partner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT = (1.0, 1.5)
    hanging, healthy = receivers(), receivers()
    hanging.answer(HANG)
    make_partner(hanging, name="hanging")
    make_partner(healthy, name="healthy")
    publish_post(seed, pan, django_capture_on_commit_callbacks)

    fast = Delivery.objects.get(partner__name="healthy")
    slow = Delivery.objects.get(partner__name="hanging")
    assert fast.state == Delivery.State.SUCCEEDED
    assert fast.attempt_log.get().latency_ms < 1000
    assert slow.state == Delivery.State.FAILED
    assert slow.attempt_log.get().error.startswith("timeout")


def test_lost_broker_message_is_sent_by_the_sweeper(
    seed, pan, receivers, make_partner, monkeypatch, django_capture_on_commit_callbacks
):
    from publishing.webhooks.tasks import send_delivery

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    receiver = receivers()
    make_partner(receiver)
    with monkeypatch.context() as patch:
        patch.setattr(send_delivery, "apply_async", broker_down)
        post = publish_post(seed, pan, django_capture_on_commit_callbacks)  # still works
    assert post.live and receiver.received == []
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.PENDING
    assert delivery.locked_until is None  # not held for a queue that never got it
    assert sweep_deliveries() == 1
    assert len(receiver.received) == 1 and receiver.received[0].verify_error == ""


def test_a_claimed_delivery_is_not_sent_twice(seed, pan, receivers, make_partner):
    receiver = receivers()
    make_partner(receiver)
    make_post(seed["blog"], "Claimed", dt.date(2024, 1, 1), pan)  # on_commit never runs here
    delivery = Delivery.objects.get()
    first = sender.claim([delivery.pk])
    assert len(first) == 1
    assert sender.claim([delivery.pk]) == []  # leased: a second sender gets nothing
    assert sweep_deliveries() == 0
    sender.record(first[0], sender.post(first[0]))
    assert len(receiver.received) == 1


def test_rotated_secret_signs_with_both_during_grace(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    partner = make_partner(receiver)
    old = partner.secret
    new = partner.rotate_secret()
    assert new != old and new.startswith("whsec_")
    publish_post(seed, pan, django_capture_on_commit_callbacks)
    got = receiver.received[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)

    Partner.objects.filter(pk=partner.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    publish_post(seed, pan, django_capture_on_commit_callbacks, title="After grace")
    assert len(receiver.received[1].headers["webhook-signature"].split(" ")) == 1


def test_secret_never_logged(
    seed, pan, receivers, make_partner, caplog, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS = [0]
    receiver = receivers(default=(500, {}, b"fail"))
    partner = make_partner(receiver)
    with caplog.at_level(logging.DEBUG):
        publish_post(seed, pan, django_capture_on_commit_callbacks)
        sweep_deliveries()
    assert caplog.records
    raw_key = partner.secret.removeprefix("whsec_")
    assert raw_key not in caplog.text and raw_key not in repr(partner)


def test_prune_drops_old_finished_log_entries_only(
    seed, pan, receivers, make_partner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 7
    # Events are also the changes feed's tombstones, kept for its retention (>= 30 days
    # in production); shortened alike here.
    settings.CHANGES_FEED_RETENTION_DAYS = 7
    receiver = receivers()
    make_partner(receiver)
    publish_post(seed, pan, django_capture_on_commit_callbacks, title="Old")
    publish_post(seed, pan, django_capture_on_commit_callbacks, title="New")
    old = Delivery.objects.get(event__page_title="Old")
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    WebhookEvent.objects.filter(pk=old.event_id).update(
        occurred_at=timezone.now() - timedelta(days=8)
    )
    prune_delivery_log()
    assert list(Delivery.objects.values_list("event__page_title", flat=True)) == ["New"]
    assert not WebhookEvent.objects.filter(page_title="Old").exists()


def test_an_attempt_has_a_wall_clock_deadline(
    seed, pan, receivers, make_partner, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """A partner that keeps the connection open past the deadline is logged as a timeout."""
    settings.WEBHOOK_TIMEOUT = (1.0, 10.0)
    monkeypatch.setattr(sender, "attempt_deadline", lambda: 0.5)
    receiver = receivers()
    receiver.answer(HANG)
    make_partner(receiver)
    publish_post(seed, pan, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert delivery.state == Delivery.State.FAILED
    assert attempt.error.startswith("timeout: no complete answer within")
    assert attempt.latency_ms < 5000


def test_timeouts_are_capped_at_15_seconds(settings):
    settings.WEBHOOK_TIMEOUT = (60, 120)
    assert sender.timeouts() == (15.0, 15.0)


def test_deleting_a_live_page_unpublishes_it(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    make_partner(receiver)
    post = publish_post(seed, pan, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        post.delete()
    payload = receiver.received[-1].payload
    assert payload["type"] == "page.unpublished" and payload["data"]["id"] == post.pk


def test_deleting_a_private_page_never_announces_it(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    make_partner(receiver)
    post = publish_post(seed, pan, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(
            page=post, restriction_type=PageViewRestriction.PASSWORD, password="x"
        )
    receiver.received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        post.delete()  # cascades to the restriction
    assert [r.payload["type"] for r in receiver.received] == []


def test_partner_removed_mid_send_is_not_an_error(seed, pan, receivers, make_partner):
    receiver = receivers()
    partner = make_partner(receiver)
    make_post(seed["blog"], "Orphan", dt.date(2024, 1, 1), pan)
    claimed = sender.claim([Delivery.objects.get().pk])
    partner.delete()
    assert sender.record(claimed[0], sender.post(claimed[0])) == "gone"


def test_moving_a_page_into_a_private_section_and_back(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    from cms.models import BlogIndexPage

    receiver = receivers()
    make_partner(receiver)
    post = publish_post(seed, pan, django_capture_on_commit_callbacks)
    private = BlogIndexPage(title="Staff blog", slug="staff-blog")
    with django_capture_on_commit_callbacks(execute=True):
        seed["home"].add_child(instance=private)
        private.save_revision().publish()
        PageViewRestriction.objects.create(
            page=private, restriction_type=PageViewRestriction.PASSWORD, password="x"
        )
    receiver.received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        post.move(private, pos="last-child")
    assert [(r.payload["type"], r.payload["data"]["id"]) for r in receiver.received] == [
        ("page.unpublished", post.pk)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        post.move(seed["blog"], pos="last-child")
    moved_back = receiver.received[-1].payload
    assert moved_back["type"] == "page.published"
    assert moved_back["data"]["url"].endswith(seed["blog"].url + post.slug + "/")


def test_publishing_a_page_whose_expiry_has_passed_sends_nothing(
    seed, pan, receivers, make_partner, django_capture_on_commit_callbacks
):
    receiver = receivers()
    make_partner(receiver)
    past = timezone.now() - timedelta(minutes=1)
    post = publish_post(seed, pan, django_capture_on_commit_callbacks, expire_at=past)
    assert post.live  # Wagtail publishes it; readers get a 404 and partners get nothing
    assert receiver.received == [] and not Delivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_share_a_delivery(loopback_allowed):
    """Four senders race for the same twenty deliveries: each goes to exactly one."""
    import threading

    from django.db import connection

    partner = Partner.objects.create(name="p", endpoint_url="http://127.0.0.1:9/")
    event = WebhookEvent.objects.create(
        type=WebhookEvent.Type.PUBLISHED, page_id=1, page_title="t", version=1, data={}
    )
    now = timezone.now()
    ids = [
        Delivery.objects.create(
            event=event, partner=partner, webhook_id=f"msg_{i}", next_attempt_at=now
        ).pk
        for i in range(20)
    ]
    barrier = threading.Barrier(4)
    won: list[list[int]] = []

    def race() -> None:
        try:
            barrier.wait(10)
            won.append([outgoing.delivery_id for outgoing in sender.claim(ids)])
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(won) == 4
    claimed = [pk for batch in won for pk in batch]
    assert sorted(claimed) == sorted(ids)  # every one claimed, none twice


def test_a_queued_delivery_is_queued_again_only_once_its_hold_runs_out(
    seed, pan, receivers, make_partner, settings, monkeypatch
):
    """The sweeper queues one task per due delivery, not one per sweep: a message sitting
    in a busy (or stopped) queue holds its row; a lost one is replaced after the hold."""
    from publishing.webhooks.tasks import send_delivery

    settings.WEBHOOK_LEASE_SECONDS = 60
    queued: list[tuple] = []
    monkeypatch.setattr(send_delivery, "apply_async", lambda args, **kw: queued.append(args))
    receiver = receivers()
    make_partner(receiver)
    make_post(seed["blog"], "Queued", dt.date(2024, 5, 1), pan)  # on_commit never runs here
    delivery = Delivery.objects.get()

    assert sweep_deliveries() == 1 and queued == [(delivery.pk,)]
    assert sweep_deliveries() == 0, "queued twice while the first message is still valid"
    with freeze_time(timezone.now() + timedelta(seconds=61)):
        assert sweep_deliveries() == 1  # the first message was lost: queued again
    assert queued == [(delivery.pk,), (delivery.pk,)]

    # The task that finally runs claims the held row (a hold is not a lease) and sends it;
    # the duplicate message finds nothing to do.
    assert sender.send(delivery.pk) == Delivery.State.SUCCEEDED
    assert sender.send(delivery.pk) is None
    assert len(receiver.received) == 1 and receiver.received[0].verify_error == ""


def test_a_sender_that_died_holding_the_lease_is_replaced_once_the_lease_runs_out(
    seed, pan, receivers, make_partner, settings
):
    """The sweeper queues the delivery again (dropping the dead sender's lease with it); the
    new task sends it, and a late answer from the old sender is only logged."""
    receiver = receivers()
    make_partner(receiver)
    make_post(seed["blog"], "Orphaned", dt.date(2024, 5, 1), pan)  # on_commit never runs here
    delivery = Delivery.objects.get()
    (dead_sender,) = sender.claim([delivery.pk])  # then its process is killed
    assert sweep_deliveries() == 0  # the lease is live: nobody else sends

    settings.WEBHOOK_LEASE_SECONDS = 0  # as if the lease had run out
    Delivery.objects.filter(pk=delivery.pk).update(locked_until=timezone.now())
    assert sweep_deliveries() == 1  # eager Celery: queued and sent here
    assert Delivery.objects.get().state == Delivery.State.SUCCEEDED
    assert len(receiver.received) == 1

    late = sender.post(dead_sender)
    assert late.ok
    sender.record(dead_sender, late)
    assert Delivery.objects.get().state == Delivery.State.SUCCEEDED
    assert Delivery.objects.get().attempts == 1  # the late sender moved nothing on
    assert Delivery.objects.get().attempt_log.count() == 2  # ...but its attempt is logged
