"""A new partner's secret is shown once, through a signed link, and never kept in a session."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from freezegun import freeze_time

from publishing.models import Partner

pytestmark = pytest.mark.django_db

SECRET_RE = re.compile(r"<code data-secret>(whsec_[^<]+)</code>")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def superuser_client(username: str) -> Client:
    user = get_user_model().objects.create_superuser(username, f"{username}@example.org", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(db) -> Client:
    return superuser_client("admin")


def create_partner(client: Client):
    """Submit the admin's add form; returns the response that redirects to the reveal."""
    response = client.post(
        "/admin/webhooks/partners/new/",
        {"name": "Regional news", "endpoint_url": "http://127.0.0.1:9/hooks", "active": "on"},
    )
    assert response.status_code == 302
    return response


def shown_secret(response) -> str | None:
    found = SECRET_RE.search(response.content.decode())
    return found.group(1) if found else None


def tables_containing(text: str) -> set[str]:
    """Every table with a row whose text holds ``text`` (sessions decoded first)."""
    found = set()
    for session in Session.objects.all():
        if text in json.dumps(session.get_decoded()) or text in session.session_data:
            found.add(Session._meta.db_table)
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            if any(text in str(row) for row in cursor.fetchall()):
                found.add(table)
    return found


def test_the_secret_is_shown_once_and_never_stored_outside_the_partner(
    admin_client, loopback_allowed
):
    created = create_partner(admin_client)
    partner = Partner.objects.get()
    # Between saving and viewing, the secret is only in the partner's own row.
    assert tables_containing(partner.secret) == {Partner._meta.db_table}
    assert partner.secret not in created.url and "whsec_" not in created.url

    first = admin_client.get(created.url)
    assert shown_secret(first) == partner.secret
    assert "no-store" in first["Cache-Control"]
    assert tables_containing(partner.secret) == {Partner._meta.db_table}

    again = admin_client.get(created.url).content.decode()
    assert partner.secret not in again and "cannot be shown again" in again
    bare = admin_client.get(f"/admin/webhooks/partners/secret/{partner.pk}/").content.decode()
    assert partner.secret not in bare and "cannot be shown again" in bare


def test_the_link_works_only_for_the_admin_who_saved_it(admin_client, loopback_allowed):
    created = create_partner(admin_client)
    other = superuser_client("colleague")
    assert shown_secret(other.get(created.url)) is None
    # ...and the colleague's attempt did not use it up.
    assert shown_secret(admin_client.get(created.url)) == Partner.objects.get().secret


def test_the_link_expires(admin_client, loopback_allowed):
    with freeze_time(T0):
        created = create_partner(admin_client)
    with freeze_time(T0 + dt.timedelta(minutes=6)):
        assert shown_secret(admin_client.get(created.url)) is None


def test_a_link_for_another_partner_or_an_old_secret_shows_nothing(admin_client, loopback_allowed):
    created = create_partner(admin_client)
    partner = Partner.objects.get()
    other = Partner.objects.create(name="Other", endpoint_url="http://127.0.0.1:9/other")
    token = created.url.split("?", 1)[1]
    stolen = admin_client.get(f"/admin/webhooks/partners/secret/{other.pk}/?{token}")
    assert shown_secret(stolen) is None and other.secret not in stolen.content.decode()

    # Rotated before the first link was opened: that link must not reveal the new secret.
    rotated = admin_client.post(f"/admin/webhooks/partners/rotate/{partner.pk}/")
    partner.refresh_from_db()
    assert shown_secret(admin_client.get(created.url)) is None
    assert tables_containing(partner.secret) == {Partner._meta.db_table}
    assert shown_secret(admin_client.get(rotated.url)) == partner.secret
    assert shown_secret(admin_client.get(rotated.url)) is None


def test_a_forged_link_shows_nothing(admin_client, loopback_allowed):
    create_partner(admin_client)
    partner = Partner.objects.get()
    for token in ("", "garbage", "eyJwYXJ0bmVyIjoxfQ:1abc:def"):
        page = admin_client.get(f"/admin/webhooks/partners/secret/{partner.pk}/", {"t": token})
        assert page.status_code == 200 and shown_secret(page) is None
