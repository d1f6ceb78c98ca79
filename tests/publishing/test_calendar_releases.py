"""The editorial calendar, its private ICS feed, and releases (schedule, rehearse, undo).

In-process, with freezegun for time; the browser journeys are in tests/test_editors_browser.py.
"""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse
from freezegun import freeze_time
from icalendar import Calendar
from wagtail.models import ModelLogEntry, PageLogEntry, Revision

from cms.models import Author, BlogPostPage
from publishing.models import CalendarFeedToken, Release
from publishing.scheduler import engine as scheduler
from publishing.scheduler.calendar import calendar_entries, review_models
from publishing.scheduler.releases import (
    ReleaseError,
    render_at_instant,
    schedule_release,
    undo_release,
)
from tests.factories import make_post

UTC = dt.UTC
T0 = dt.datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_superuser(
        "cal", "cal@example.org", "pw-cal-1234", first_name="Cal", last_name="Endar"
    )


def scheduled_post(blog, title, when, user):
    post = make_post(blog, title, dt.date(2030, 1, 1), Author.objects.first(), publish=False)
    post.go_live_at = when
    revision = post.save_revision(user=user)
    revision.publish(user=user)
    return post, revision


@pytest.mark.django_db
def test_the_calendar_shows_a_scheduled_post_linking_to_its_editor(seed, editor, client):
    with freeze_time(T0):
        post, _revision = scheduled_post(
            seed["blog"], "Calendar news", T0 + dt.timedelta(days=2), editor
        )
        client.force_login(editor)
        response = client.get(reverse("publishing_calendar"), {"date": "2030-05-01"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Calendar news" in html
    assert f'href="/admin/pages/{post.pk}/edit/"' in html
    # One format, the site's zone with the abbreviation for that date (PDT in May).
    assert "2030-05-03 05:00:00 PDT" in html
    assert 'data-date="2030-05-03"' in html


@pytest.mark.django_db
def test_the_calendar_filters_by_type_and_author(seed, editor):
    other = get_user_model().objects.create_superuser("other", "o@example.org", "pw-o-1234")
    with freeze_time(T0):
        scheduled_post(seed["blog"], "Mine", T0 + dt.timedelta(days=1), editor)
        scheduled_post(seed["blog"], "Theirs", T0 + dt.timedelta(days=1), other)
        titles = {e.title for e in calendar_entries(editor, author_id=editor.pk)}
        assert "Mine" in titles and "Theirs" not in titles
        assert calendar_entries(editor, kinds=["expire"]) == [
            e for e in calendar_entries(editor) if e.kind == "expire"
        ]
        assert not [e for e in calendar_entries(editor, kinds=["review"]) if e.title == "Mine"]


@pytest.mark.django_db
def test_review_due_dates_are_read_from_any_model_with_the_field(seed, editor):
    assert BlogPostPage in review_models()
    post = seed["post"]
    post.next_review_due = dt.date(2030, 6, 1)
    post.save_revision().publish()
    entries = [e for e in calendar_entries(editor, kinds=["review"]) if e.title == post.title]
    assert [e.when for e in entries] == [dt.date(2030, 6, 1)]
    assert entries[0].edit_url == f"/admin/pages/{post.pk}/edit/"


@pytest.mark.django_db
def test_bad_calendar_filters_are_a_form_error_not_a_500(seed, editor, client):
    client.force_login(editor)
    response = client.get(reverse("publishing_calendar"), {"date": "2030-13-45", "author": "x"})
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()


@pytest.mark.django_db
def test_the_ics_feed_carries_the_item_and_stops_when_revoked(seed, editor, client):
    with freeze_time(T0):
        scheduled_post(seed["blog"], "Feed news", T0 + dt.timedelta(days=2), editor)
        client.force_login(editor)
        response = client.post(reverse("publishing_calendar_feed_token"), {"action": "issue"})
        html = response.content.decode()
        url = html.split("data-calendar-feed-url", 1)[0].rsplit('value="', 1)[1].split('"')[0]
        client.logout()
        feed = client.get(url)
        assert feed.status_code == 200
        assert feed["Content-Type"].startswith("text/calendar")
        assert "no-store" in feed["Cache-Control"]
        events = list(Calendar.from_ical(feed.content).walk("VEVENT"))
        summaries = {str(e["SUMMARY"]): e for e in events}
        event = summaries["Go live: Feed news"]
        assert event.decoded("DTSTART") == T0 + dt.timedelta(days=2)
        assert "/admin/pages/" in str(event["URL"])
        # Only the hash is stored; a new address replaces the old; revoking ends it.
        token = url.rstrip("/").rsplit("/", 1)[1].removesuffix(".ics")
        assert not CalendarFeedToken.objects.filter(token_hash=token).exists()
        client.force_login(editor)
        client.post(reverse("publishing_calendar_feed_token"), {"action": "revoke"})
        assert client.get(url).status_code == 404
        assert client.get("/calendar/not-a-token.ics").status_code == 404


# --- releases ----------------------------------------------------------------------------


@pytest.fixture
def release_setup(seed, editor):
    """A live post with a pending edit and a new, never-published post, in one release."""
    with freeze_time(T0):
        live = seed["post"]
        before = live.live_revision
        draft = live.get_latest_revision_as_object()
        draft.title = "Relapse and side effects: updated guidance"
        edit = draft.save_revision(user=editor)
        new = make_post(seed["blog"], "Brand new release post", dt.date(2030, 5, 2),
                        Author.objects.first(), publish=False)  # fmt: skip
        new_revision = new.save_revision(user=editor)
        release = schedule_release(
            "Spring update", T0 + dt.timedelta(hours=1), [edit, new_revision], editor
        )
    return {"release": release, "live": live, "before": before, "new": new, "edit": edit}


@pytest.mark.django_db
def test_a_release_goes_live_through_the_scheduler(release_setup):
    release = release_setup["release"]
    assert set(Revision.objects.filter(approved_go_live_at__isnull=False).values_list(
        "approved_go_live_at", flat=True)) == {release.go_live_at}  # fmt: skip
    with freeze_time(T0):
        assert release.status == Release.Status.SCHEDULED
        with pytest.raises(ReleaseError):
            undo_release(release, None)
    with freeze_time(release.go_live_at + dt.timedelta(seconds=1)):
        scheduler.run_due_now()
        assert release.status == Release.Status.LIVE
    live = BlogPostPage.objects.get(pk=release_setup["live"].pk)
    assert live.title == "Relapse and side effects: updated guidance"
    assert BlogPostPage.objects.get(pk=release_setup["new"].pk).live


@pytest.mark.django_db
def test_rehearsal_shows_the_future_and_changes_nothing(release_setup, settings):
    release = release_setup["release"]
    blog_url = BlogPostPage.objects.get(pk=release_setup["new"].pk).get_parent().url
    cache.clear()
    with freeze_time(T0):
        home = render_at_instant(release, "/", "localhost").content.decode()
        listing = render_at_instant(release, blog_url, "localhost").content.decode()
        feed = render_at_instant(release, "/feeds/blog/rss/", "localhost").content.decode()
        for body in (listing, feed):
            assert "Brand new release post" in body
        assert "Relapse and side effects: updated guidance" in listing + home
        # Nothing was committed or cached.
        assert not BlogPostPage.objects.get(pk=release_setup["new"].pk).live
        assert BlogPostPage.objects.get(pk=release_setup["live"].pk).title != (
            "Relapse and side effects: updated guidance"
        )
        assert release.status == Release.Status.SCHEDULED
    with pytest.raises(ReleaseError):
        render_at_instant(release, "/admin/", "localhost")


@pytest.mark.django_db
def test_undo_restores_the_previous_revision_unpublishes_new_pages_once(release_setup, editor):
    release = release_setup["release"]
    with freeze_time(release.go_live_at + dt.timedelta(seconds=1)):
        scheduler.run_due_now()
    with freeze_time(release.go_live_at + dt.timedelta(minutes=5)):
        done = undo_release(release, editor)
        assert len(done) == 2
        with pytest.raises(ReleaseError):
            undo_release(Release.objects.get(pk=release.pk), editor)
    live = BlogPostPage.objects.get(pk=release_setup["live"].pk)
    assert live.live and live.live_revision_id == release_setup["before"].pk
    assert live.title == release_setup["before"].as_object().title
    assert not BlogPostPage.objects.get(pk=release_setup["new"].pk).live
    release.refresh_from_db()
    assert release.status == Release.Status.UNDONE and release.undone_by == editor
    assert ModelLogEntry.objects.filter(action="publishing.release.undo").count() == 1
    assert PageLogEntry.objects.filter(page=live, action="wagtail.publish").count() >= 2


@pytest.mark.django_db
def test_release_admin_pages_and_bad_preview_paths(release_setup, editor, client):
    client.force_login(editor)
    release = release_setup["release"]
    assert client.get(reverse("publishing_releases")).status_code == 200
    assert client.get(reverse("publishing_release_add")).status_code == 200
    detail = client.get(reverse("publishing_release_detail", args=[release.pk]))
    assert "Spring update" in detail.content.decode()
    preview = reverse("publishing_release_preview", args=[release.pk])
    for bad in ("//evil.example/", "http://x/", "/admin/", "/no-such-page/?" + "x" * 3000):
        response = client.get(preview, {"path": bad})
        assert response.status_code in (400, 404), bad
        assert response.status_code != 500
    ok = client.get(preview, {"path": "/"})
    assert ok.status_code == 200 and "no-store" in ok["Cache-Control"]
    assert "Rehearsal of release" in ok.content.decode()
    # A past instant, or no changes, is a form error.
    response = client.post(
        reverse("publishing_release_add"), {"name": "Late", "go_live_at": "2001-01-01 09:00:00"}
    )
    assert response.status_code == 200 and "help-critical" in response.content.decode()


@pytest.mark.django_db
def test_the_calendar_shows_only_what_the_user_may_open(seed, editor):
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", "v@example.org", "pw-v-1234")
    viewer.user_permissions.add(Permission.objects.get(codename="access_admin"))
    with freeze_time(T0):
        scheduled_post(seed["blog"], "Private plans", T0 + dt.timedelta(days=1), editor)
        assert "Private plans" in {e.title for e in calendar_entries(editor)}
        assert "Private plans" not in {e.title for e in calendar_entries(viewer)}
