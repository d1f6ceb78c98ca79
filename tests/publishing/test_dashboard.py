"""The admin dashboard shows what goes live next and which pages need review."""

import datetime as dt

import pytest
from django.utils import timezone


@pytest.mark.django_db
def test_dashboard_lists_upcoming_schedules_and_reviews_due(seed, admin_client):
    post = seed["post"]
    post.title = "Scheduled update of the Arimidex post"
    post.go_live_at = timezone.now() + dt.timedelta(hours=3)
    post.save_revision(approved_go_live_at=post.go_live_at)

    content = admin_client.get("/admin/").content.decode()
    assert "Upcoming scheduled publishing" in content
    assert "When (America/Los_Angeles)" in content
    assert "Scheduled update of the Arimidex post" in content
    assert "Pages due for clinical review" in content
    assert "Never reviewed" in content  # the seed post has no review yet


@pytest.mark.django_db
def test_dashboard_says_when_nothing_is_scheduled(seed, admin_client):
    content = admin_client.get("/admin/").content.decode()
    assert "Nothing is scheduled." in content


@pytest.mark.django_db
def test_healthz_reports_overdue_scheduled_items(seed, client):
    body = client.get("/healthz").json()
    assert body["checks"]["scheduler"] == {
        "ok": True,
        "overdue": 0,
        "needs_editor": 0,
        "follow_ups_late": 0,
    }

    post = seed["post"]
    late = timezone.now() - dt.timedelta(minutes=5)
    post.save_revision(approved_go_live_at=late)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["scheduler"] == {
        "ok": False,
        "overdue": 1,
        "needs_editor": 0,
        "follow_ups_late": 0,
    }


@pytest.mark.django_db
def test_healthz_reports_a_go_live_whose_follow_up_has_not_run(seed, client):
    """Live, but partners and feeds not told yet (no worker took its follow-up)."""
    from publishing.models import GoLiveFollowUp

    post = seed["post"]
    row = GoLiveFollowUp.objects.create(revision=post.save_revision(), page=post)
    assert client.get("/healthz").json()["checks"]["scheduler"]["ok"]  # just written
    GoLiveFollowUp.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=5)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    scheduler = response.json()["checks"]["scheduler"]
    assert (scheduler["ok"], scheduler["follow_ups_late"]) == (False, 1)


@pytest.mark.django_db
def test_healthz_reports_an_undelivered_webhook_backlog(seed, client, receivers, make_partner):
    from publishing.models import Delivery

    make_partner(receivers())
    assert client.get("/healthz").json()["checks"]["webhooks"]["backlog"] == 0
    post = seed["post"]
    post.save_revision().publish()  # a page.updated for the partner
    Delivery.objects.update(
        state=Delivery.State.PENDING, next_attempt_at=timezone.now() - dt.timedelta(minutes=5)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["webhooks"] == {
        "ok": False,
        "backlog": 1,
        "waiting": 0,
        "dead": 0,
    }


@pytest.mark.django_db
def test_dashboard_lists_recent_failed_deliveries(
    seed, admin_client, receivers, make_partner, django_capture_on_commit_callbacks
):
    from publishing.models import Delivery

    assert "No failed deliveries." in admin_client.get("/admin/").content.decode()
    receiver = receivers()
    receiver.answer((500, {}, b"down"))
    make_partner(receiver, name="Oncology Today")
    with django_capture_on_commit_callbacks(execute=True):
        seed["post"].save_revision().publish()
    assert Delivery.objects.get().state == Delivery.State.FAILED

    content = admin_client.get("/admin/").content.decode()
    assert "Recent failed webhook deliveries" in content
    assert "Oncology Today" in content and "(500)" in content
    assert "Next attempt (America/Los_Angeles)" in content
