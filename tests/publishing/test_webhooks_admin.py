"""The webhook admin: partners with a secret shown once, and the delivery log."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model

from cms.models import Author
from publishing.models import Delivery, Partner
from tests.factories import make_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("admin", "a@example.org", "pw")
    client.force_login(user)
    return client


def test_create_partner_shows_the_secret_exactly_once(admin_client, loopback_allowed):
    response = admin_client.post(
        "/admin/webhooks/partners/new/",
        {
            "name": "Regional news",
            "endpoint_url": "http://127.0.0.1:9/hooks",
            "active": "on",
            "content_types": ["blog"],
            "tags": "nutrition, exercise",
            "contact_email": "ops@example.org",
        },
        follow=True,
    )
    partner = Partner.objects.get()
    assert partner.content_types == ["blog"] and partner.tags == ["nutrition", "exercise"]
    shown = re.search(r"<code data-secret>(whsec_[^<]+)</code>", response.content.decode())
    assert shown and shown.group(1) == partner.secret
    assert "no-store" in response["Cache-Control"]

    again = admin_client.get(f"/admin/webhooks/partners/secret/{partner.pk}/").content.decode()
    assert partner.secret not in again and "cannot be shown again" in again
    for url in (
        "/admin/webhooks/partners/",
        f"/admin/webhooks/partners/edit/{partner.pk}/",
    ):
        page = admin_client.get(url).content.decode()
        assert "Regional news" in page
        assert partner.secret.removeprefix("whsec_") not in page
    assert (
        'value="nutrition, exercise"'
        in admin_client.get(f"/admin/webhooks/partners/edit/{partner.pk}/").content.decode()
    )


def test_private_url_is_a_form_error(admin_client, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    response = admin_client.post(
        "/admin/webhooks/partners/new/",
        {"name": "Internal", "endpoint_url": "http://10.0.0.5/hooks", "active": "on"},
    )
    assert response.status_code == 200
    assert "10.0.0.5 is not a public address" in response.content.decode()
    assert not Partner.objects.exists()


def test_rotate_shows_the_new_secret_once_and_keeps_the_old_for_grace(
    admin_client, loopback_allowed
):
    partner = Partner.objects.create(name="P", endpoint_url="http://127.0.0.1:9/")
    old = partner.secret
    confirm = admin_client.get(f"/admin/webhooks/partners/rotate/{partner.pk}/")
    assert "grace period" in confirm.content.decode()
    response = admin_client.post(f"/admin/webhooks/partners/rotate/{partner.pk}/", follow=True)
    partner.refresh_from_db()
    assert partner.secret != old and partner.previous_secret == old
    assert f"<code data-secret>{partner.secret}</code>" in response.content.decode()
    assert old not in response.content.decode()


def test_delivery_log_filters_shows_attempts_and_redelivers(
    admin_client, seed, receivers, make_partner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_DELAYS = []
    good, bad = receivers(), receivers(default=(500, {}, b"upstream exploded"))
    make_partner(good, name="Good partner")
    bad_partner = make_partner(bad, name="Bad partner")
    with django_capture_on_commit_callbacks(execute=True):
        make_post(
            seed["blog"], "Logged post", dt.date(2024, 1, 1), Author.objects.get(slug="dr-pan")
        )
    dead = Delivery.objects.get(partner=bad_partner)
    assert dead.state == Delivery.State.DEAD

    def rows(**filters) -> str:
        # The listing's results fragment: the table rows, without the filter form.
        return admin_client.get("/admin/webhooks/deliveries/results/", filters).content.decode()

    listing = rows()
    assert "Good partner" in listing and "Bad partner" in listing and "Logged post" in listing
    assert "Bad partner" in rows(state="dead") and "Good partner" not in rows(state="dead")
    by_partner = rows(partner=bad_partner.pk)
    assert "Bad partner" in by_partner and "Good partner" not in by_partner

    inspect = admin_client.get(f"/admin/webhooks/deliveries/inspect/{dead.pk}/").content.decode()
    assert "upstream exploded" in inspect and "500" in inspect and dead.webhook_id in inspect
    assert bad_partner.secret.removeprefix("whsec_") not in inspect

    # No way to add or edit log entries by hand.
    # (Wagtail answers a permission denial by redirecting to the dashboard.)
    for url in ("/admin/webhooks/deliveries/new/", f"/admin/webhooks/deliveries/edit/{dead.pk}/"):
        denied = admin_client.post(url, {"state": "succeeded"})
        assert denied.status_code == 302 and denied.url == "/admin/"
    dead.refresh_from_db()
    assert dead.state == Delivery.State.DEAD and Delivery.objects.count() == 2

    bad.default = (200, {}, b"ok now")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/admin/webhooks/deliveries/redeliver/{dead.pk}/")
    dead.refresh_from_db()
    assert dead.state == Delivery.State.SUCCEEDED
    assert [r.headers["webhook-id"] for r in bad.received] == [dead.webhook_id] * 2
