"""Editors: urgency choices, validation, revisions, and the anonymous counts in the admin."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import strip_tags
from wagtail.models import PageLogEntry

from screening.models import ScreenerPage, ScreeningOutcomeCount
from tests.screening.conftest import publish_items


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.org", "pw")
    client.force_login(user)
    return client


def test_urgency_levels_are_the_three_the_clinic_named():
    from screening.blocks import URGENCY_CHOICES, RedFlagItemBlock

    assert [(value, str(label)) for value, label in URGENCY_CHOICES] == [
        ("doctor", "Talk to your doctor first"),
        ("care_team", "Contact your care team today"),
        ("emergency", "Emergency: call 911 or go to the emergency room now"),
    ]
    assert RedFlagItemBlock().child_blocks["urgency"].get_default() == "doctor"


@pytest.mark.django_db
def test_an_urgency_in_use_needs_its_outcome_message(screener):
    screener.items = publish_items(screener, ["emergency"]).items
    screener.emergency_message = "<p></p>"
    with pytest.raises(ValidationError) as exc:
        screener.full_clean()
    assert "emergency_message" in exc.value.message_dict
    assert "care_team_message" not in exc.value.message_dict  # no item uses it


@pytest.mark.django_db
def test_a_screener_needs_a_program_page(screener):
    screener.program_page = None
    with pytest.raises(ValidationError) as exc:
        screener.full_clean()
    assert "program_page" in exc.value.message_dict


@pytest.mark.django_db
def test_new_screeners_start_with_a_disclaimer_and_every_outcome_message():
    page = ScreenerPage(title="x", slug="x")
    assert "does not diagnose" in page.disclaimer and "not for emergencies" in page.disclaimer
    assert "call 911" in page.disclaimer
    assert "Call 911" in page.emergency_message
    assert "care team" in page.care_team_message
    assert "discuss these health issues with your doctor" in page.doctor_message


@pytest.mark.django_db
def test_a_draft_change_reaches_readers_only_when_published_and_is_logged(
    screener, client, django_user_model
):
    editor = django_user_model.objects.create_superuser("ed", "ed@example.org", "pw")
    first = screener.items[0].id
    raw = list(screener.items.raw_data)
    raw[0]["value"]["urgency"] = "emergency"
    screener.items = raw
    revision = screener.save_revision(user=editor, log_action=True)

    def outcome():
        response = client.post(
            f"/api/screening/{screener.pk}/evaluate/",
            {"answers": [first]},
            content_type="application/json",
        )
        return response.json()["outcome"]

    assert outcome() == "doctor"  # the draft is not live
    revision.publish(user=editor)
    assert outcome() == "emergency"
    actions = set(PageLogEntry.objects.filter(page=screener).values_list("action", flat=True))
    assert {"wagtail.edit", "wagtail.publish"} <= actions


@pytest.mark.django_db
def test_admin_edit_view_shows_the_screener_fields(screener, admin_client):
    response = admin_client.get(reverse("wagtailadmin_pages:edit", args=[screener.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    for label in ("Red-flag items", "Outcomes", "Disclaimer", "Program page", "Urgency"):
        assert label.lower() in content.lower(), label


@pytest.mark.django_db
def test_counts_accumulate_per_screener_outcome_and_day(screener):
    day = dt.date(2026, 1, 2)
    for _ in range(3):
        ScreeningOutcomeCount.record(screener.pk, "none", day)
    ScreeningOutcomeCount.record(screener.pk, "doctor", day)
    ScreeningOutcomeCount.record(screener.pk, "none", day + dt.timedelta(days=1))
    rows = set(ScreeningOutcomeCount.objects.values_list("outcome", "date", "count"))
    assert rows == {("none", day, 3), ("doctor", day, 1), ("none", day + dt.timedelta(days=1), 1)}


@pytest.mark.django_db
def test_editors_see_the_counts_read_only_in_the_admin(screener, admin_client):
    ScreeningOutcomeCount.objects.create(
        screener=screener, outcome="care_team", date=dt.date(2026, 3, 4), count=7
    )
    index = reverse("screening_outcome_counts:index")
    content = admin_client.get(index).content.decode()
    listing = " ".join(strip_tags(content).split())
    assert "Date Screener Outcome Count" in listing
    assert f"March 4, 2026 {screener.title} Contact your care team today 7" in listing
    assert reverse("screening_outcome_counts:add") not in content
    row = ScreeningOutcomeCount.objects.get()
    # Nobody, not even a superuser, adds, edits or deletes a count.
    assert admin_client.get(reverse("screening_outcome_counts:add")).status_code in (302, 403)
    edit = reverse("screening_outcome_counts:edit", args=[row.pk])
    assert admin_client.post(edit, {"count": 1000}).status_code in (302, 403)
    delete = reverse("screening_outcome_counts:delete", args=[row.pk])
    admin_client.post(delete)
    assert ScreeningOutcomeCount.objects.get().count == 7

    export = b"".join(admin_client.get(index, {"export": "csv"}).streaming_content).decode()
    assert export.splitlines()[:2] == [
        "Date,Screener,Outcome,Outcome code,Count",
        f"2026-03-04,{screener.title},Contact your care team today,care_team,7",
    ]

    menu = admin_client.get(reverse("wagtailadmin_reports:locked_pages")).content.decode()
    assert index in menu  # listed under Reports


@pytest.mark.django_db
def test_only_editors_granted_view_see_the_counts(screener, client, django_user_model):
    index = reverse("screening_outcome_counts:index")
    editor = django_user_model.objects.create_user("editor", "e@example.org", "pw")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    assert client.get(index).status_code in (302, 403)
    group = Group.objects.create(name="Screener analysts")
    group.permissions.add(Permission.objects.get(codename="view_screeningoutcomecount"))
    editor.groups.add(group)
    assert client.get(index).status_code == 200
