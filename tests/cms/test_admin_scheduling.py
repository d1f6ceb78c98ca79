"""Scheduling in the admin is unmistakable: zones named, drafts warned, bad times refused."""

import datetime as dt
import re
from html import unescape

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
    content = re.sub(r"</?span[^>]*>", "", content)
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


@pytest.mark.django_db
def test_an_expiry_saved_on_a_draft_of_a_live_snippet_warns_and_is_reported(seed, admin_client):
    """The live promo keeps no expiry: the editor is told, and the report says why."""
    promo = Promo.objects.get()
    assert promo.live and promo.expire_at is None
    expire = timezone.now() + dt.timedelta(days=3)
    response = admin_client.post(
        f"/admin/snippets/cms/promo/edit/{promo.pk}/",
        promo_form(promo, expire_at=local(expire)),
        follow=True,
    )
    content = response.content.decode()
    assert "The expiry" in content and "is not scheduled: it is on an unpublished draft" in content
    assert "the live page has no expiry" in content
    assert timezone.localtime(expire).strftime("%Y-%m-%d %H:%M:00 %Z") in content
    promo.refresh_from_db()
    assert promo.expire_at is None  # nothing in force

    report = admin_client.get("/admin/reports/scheduled/").content.decode()
    row = re.search(
        r'<tr class="scheduled-row scheduled-row--not-scheduled">(.*?)</tr>', report, re.S
    )
    assert row, report[-3000:]
    assert promo.title in row.group(1)
    assert (
        "Not scheduled: the expiry is on an unpublished draft — publish or schedule the draft "
        "for it to apply." in row.group(1)
    )
    assert "Overdue" not in row.group(1)

    # Published, the expiry is in force: no warning, and the report lists it as pending.
    response = admin_client.post(
        f"/admin/snippets/cms/promo/edit/{promo.pk}/",
        promo_form(promo, expire_at=local(expire), **{"action-publish": "1"}),
        follow=True,
    )
    assert "is not scheduled" not in response.content.decode()
    promo.refresh_from_db()
    assert promo.expire_at is not None
    report = admin_client.get("/admin/reports/scheduled/").content.decode()
    assert "scheduled-row--not-scheduled" not in report
    assert promo.title in report and "Pending" in report


@pytest.mark.django_db
def test_an_expiry_on_a_draft_of_a_live_page_is_reported_not_scheduled(seed, admin_client):
    post = seed["post"]
    assert post.live and post.expire_at is None
    post.expire_at = timezone.now() + dt.timedelta(days=5)
    post.save_revision()  # a draft, as "Save draft" makes it
    report = admin_client.get("/admin/reports/scheduled/").content.decode()
    row = re.search(
        r'<tr class="scheduled-row scheduled-row--not-scheduled">(.*?)</tr>', report, re.S
    )
    assert row and post.title in row.group(1) and "Not scheduled" in row.group(1)
    # Scheduling the draft makes the expiry come with it: no longer flagged.
    post.get_latest_revision().publish()
    report = admin_client.get("/admin/reports/scheduled/").content.decode()
    assert "scheduled-row--not-scheduled" not in report


@pytest.mark.django_db
def test_saving_a_draft_of_a_live_page_warns_about_its_expiry(seed, rf):
    """The page editor's hook, given the page as the edit view holds it after "Save draft"."""
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage

    from cms.wagtail_hooks import warn_page_schedule_not_in_force

    post = seed["post"]
    live_expiry = timezone.now() + dt.timedelta(days=9)
    type(post).objects.filter(pk=post.pk).update(expire_at=live_expiry)
    post.refresh_from_db()
    post.expire_at = timezone.now() + dt.timedelta(days=4)  # the draft's new expiry
    request = rf.post(f"/admin/pages/{post.pk}/edit/", {"action-save": "1"})
    request.session = {}
    request._messages = FallbackStorage(request)
    warn_page_schedule_not_in_force(request, post)
    [message] = [str(m) for m in get_messages(request)]
    assert "is not scheduled: it is on an unpublished draft" in message
    assert (
        f"the live page still expires at {timezone.localtime(live_expiry):%Y-%m-%d %H:%M:%S %Z}"
        in message
    )


def zone_hints(content: str) -> list[str]:
    text = re.sub(r"</?span[^>]*>", "", content)
    return re.findall(r"Times are in America/Los_Angeles \((\w+), UTC([-+]\d\d:\d\d)\)\.", text)


@pytest.mark.django_db
def test_the_zone_label_is_the_one_in_force_on_the_saved_date(seed, admin_client):
    """A June expiry reads PDT and a January go-live PST, whatever today is."""
    promo = Promo.objects.get()
    june = dt.datetime(2031, 6, 15, 19, 0, tzinfo=dt.UTC)
    january = dt.datetime(2031, 1, 15, 20, 0, tzinfo=dt.UTC)
    Promo.objects.filter(pk=promo.pk).update(expire_at=june, go_live_at=january)
    content = admin_client.get(f"/admin/snippets/cms/promo/edit/{promo.pk}/").content.decode()
    assert ("PST", "-08:00") in zone_hints(content)
    assert ("PDT", "-07:00") in zone_hints(content)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "2031-03-09 02:30:00",
            "2031-03-09 02:30:00 does not exist in America/Los_Angeles (clocks go forward); "
            "choose 2031-03-09 01:59:59 PST or 2031-03-09 03:00:00 PDT.",
        ),
        (
            "2031-11-02 01:30:00",
            "2031-11-02 01:30:00 is ambiguous in America/Los_Angeles: it happens twice (clocks "
            "go back); add the zone to say which: “2031-11-02 01:30:00 PDT” (the first) or "
            "“2031-11-02 01:30:00 PST” (the second).",
        ),
    ],
)
def test_a_time_skipped_or_repeated_by_dst_is_refused_with_the_choices(
    seed, admin_client, typed, message
):
    promo = Promo.objects.get()
    response = admin_client.post(
        f"/admin/snippets/cms/promo/edit/{promo.pk}/",
        promo_form(promo, expire_at=typed, **{"action-publish": "1"}),
    )
    assert response.status_code == 200  # the form again
    content = unescape(response.content.decode())
    assert message in content
    assert "couldn’t be interpreted" not in content and "couldn't be interpreted" not in content
    promo.refresh_from_db()
    assert promo.expire_at is None


@pytest.mark.django_db
def test_the_zone_abbreviation_picks_one_of_a_repeated_hour(seed, admin_client):
    promo = Promo.objects.get()
    response = admin_client.post(
        f"/admin/snippets/cms/promo/edit/{promo.pk}/",
        promo_form(promo, expire_at="2031-11-02 01:30:00 PST", **{"action-publish": "1"}),
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    promo.refresh_from_db()
    assert promo.expire_at == dt.datetime(2031, 11, 2, 9, 30, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_the_status_side_panel_writes_schedule_times_in_the_admin_format(seed, admin_client):
    """Side panel, report and warnings share one format: date, 24-hour time, abbreviation."""
    promo = Promo.objects.get()
    june = dt.datetime(2031, 6, 15, 19, 0, tzinfo=dt.UTC)
    admin_client.post(
        f"/admin/snippets/cms/promo/edit/{promo.pk}/",
        promo_form(promo, expire_at="2031-06-15 12:00:00"),
    )
    content = admin_client.get(f"/admin/snippets/cms/promo/edit/{promo.pk}/").content.decode()
    # The draft's expiry, under "Once scheduled".
    assert re.search(r"Expiry:</span>\s*2031-06-15 12:00:00 PDT</div>", content), content
    report = admin_client.get("/admin/reports/scheduled/").content.decode()
    assert "2031-06-15 12:00:00 PDT" in report
    promo.refresh_from_db()
    assert promo.latest_revision.content["expire_at"].startswith(june.isoformat()[:19])
