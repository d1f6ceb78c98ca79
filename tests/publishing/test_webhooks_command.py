"""``manage.py partners``: the automation interface for partner webhooks."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import CommandError, call_command

from cms.models import Author
from publishing.models import Delivery, Partner
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("partners", *args, stdout=out)
    return out.getvalue()


def test_add_prints_id_and_secret_once_and_list_never_shows_it(loopback_allowed):
    out = run("add", "Regional news", "http://127.0.0.1:9/hooks", "--types", "blog,events",
              "--tags", "nutrition, exercise", "--email", "ops@example.org")  # fmt: skip
    partner_id = int(re.search(r"id: (\d+)", out).group(1))
    secret = re.search(r"secret: (whsec_\S+)", out).group(1)
    partner = Partner.objects.get(pk=partner_id)
    assert partner.secret == secret
    assert partner.content_types == ["blog", "events"]
    assert partner.tags == ["nutrition", "exercise"]
    listing = run("list")
    assert "Regional news" in listing and "types=blog,events" in listing
    assert secret not in listing and secret.removeprefix("whsec_") not in listing


def test_add_refuses_private_urls_and_unknown_types(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(CommandError, match="not a public address"):
        run("add", "Bad", "http://192.168.0.10/hooks")
    with pytest.raises(CommandError, match="Unknown content types: podcasts"):
        run("add", "Bad", "https://93.184.215.14/hooks", "--types", "podcasts")
    assert not Partner.objects.exists()


def test_rotate_and_remove(loopback_allowed):
    partner = Partner.objects.create(name="P", endpoint_url="http://127.0.0.1:9/")
    old = partner.secret
    out = run("rotate", str(partner.pk))
    partner.refresh_from_db()
    assert f"secret: {partner.secret}" in out and partner.previous_secret == old
    run("remove", str(partner.pk))
    assert not Partner.objects.exists()
    with pytest.raises(CommandError, match="No partner with id"):
        run("remove", str(partner.pk))


def test_redeliver_sends_a_dead_delivery_again_with_the_same_id(
    seed, receivers, make_partner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS = []
    receiver = receivers()
    receiver.answer((500, {}, b"down"))
    make_partner(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        make_post(seed["blog"], "P", dt.date(2024, 1, 1), Author.objects.get(slug="dr-pan"))
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.DEAD

    with django_capture_on_commit_callbacks(execute=True):
        assert "Queued 1 delivery again" in run("redeliver", str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SUCCEEDED
    assert delivery.attempt_log.count() == 2  # the history is kept
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert second.verify_error == ""
    with pytest.raises(CommandError, match="No delivery with id 999999"):
        run("redeliver", "999999")
