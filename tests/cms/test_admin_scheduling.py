"""Scheduling in the admin is unmistakable: zones named, drafts warned, bad times refused."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from cms.models import Promo


def promo_form(promo: Promo, **extra) -> dict:
    data = {"title": promo.title, "text": promo.text, "link_page": "", "link_url": ""}
    data.update(extra)
    return data


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@pytest.mark.django_db
def test_page_editor_names_the_time_zone_under_go_live_and_expiry(seed, admin_client):
    content = admin_client.get(f"/admin/pages/{seed['post'].pk}/edit/").content.decode()
    hints = re.findall(r"Times are in America/Los_Angeles \((PST|PDT), UTC-0[78]:00\)\.", content)
    assert len(hints) >= 2  # under go-live and under expiry


@pytest.mark.django_db
def test_snippet_editor_names_the_time_zone(seed, admin_client):
    promo = Promo.objects.get()
    content = admin_client.get(f"/admin/snippets/cms/promo/edit/{promo.pk}/").content.decode()
    assert "Times are in America/Los_Angeles" in content


@pytest.mark.django_db
def test_saving_a_draft_with_a_go_live_time_warns_it_is_not_scheduled(seed, admin_client):
    promo = Promo.objects.get()
    go_live = timezone.now() + dt.timedelta(days=2)
    response = admin_client.post(
        f"/admin/snippets/cms/promo/edit/{promo.pk}/",
        promo_form(promo, go_live_at=local(go_live)),
        follow=True,
    )
    content = response.content.decode()
    assert "is not scheduled until you choose" in content
    assert "America/Los_Angeles" in content
    promo.refresh_from_db()
    assert promo.latest_revision.approved_go_live_at is None  # nothing scheduled


@pytest.mark.django_db
def test_publishing_with_a_go_live_time_schedules_without_the_warning(seed, admin_client):
    promo = Promo.objects.get()
    go_live = timezone.now() + dt.timedelta(days=2)
    response = admin_client.post(
        f"/admin/snippets/cms/promo/edit/{promo.pk}/",
        promo_form(promo, go_live_at=local(go_live), **{"action-publish": "1"}),
        follow=True,
    )
    assert "is not scheduled until you choose" not in response.content.decode()
    promo.refresh_from_db()
    assert promo.latest_revision.approved_go_live_at is not None


@pytest.mark.django_db
def test_expiry_in_the_past_is_refused_next_to_the_field(seed, admin_client):
    promo = Promo.objects.get()
    past = timezone.now() - dt.timedelta(hours=1)
    response = admin_client.post(
        f"/admin/snippets/cms/promo/edit/{promo.pk}/",
        promo_form(promo, expire_at=local(past), **{"action-publish": "1"}),
    )
    assert response.status_code == 200  # the form again, not a redirect
    assert "Expiry date/time must be in the future." in response.content.decode()
    promo.refresh_from_db()
    assert promo.expire_at is None
