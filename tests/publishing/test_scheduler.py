"""The scheduler in-process: claim logic, cancel, reschedule, expiry, snippets, audit log.

Time is moved with freezegun (no sleeping); Celery runs eagerly, so the sweep publishes
what is due "now" inline and arms nothing for later.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models.signals import post_save
from django.utils import timezone
from freezegun import freeze_time
from wagtail.models import GroupPagePermission, ModelLogEntry, PageLogEntry, Revision
from wagtail.signals import page_published, page_unpublished, published, unpublished

from cms.models import Author, BlogPostPage, Promo
from publishing.models import ScheduleIssue
from publishing.scheduler import engine as scheduler
from publishing.scheduler import tasks as scheduler_tasks
from publishing.scheduler.engine import Outcome
from tests.factories import make_post
from tests.publishing.publish import schedule_post

UTC = dt.UTC
LA = ZoneInfo("America/Los_Angeles")
T0 = dt.datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def signals():
    """Count the Wagtail signals other features listen to, per object, while it is live.

    Wagtail also sends ``page_published``/``published`` when a never-live object is merely
    *scheduled* (with ``instance.live`` False); listeners ignore those, so do we.
    """
    received = []

    def on(name):
        def handler(sender, instance, **kwargs):
            if instance.live or "unpublished" in name:
                received.append((name, instance.pk))

        return handler

    handlers = {
        page_published: on("page_published"),
        page_unpublished: on("page_unpublished"),
        published: on("published"),
        unpublished: on("unpublished"),
    }
    for signal, handler in handlers.items():
        signal.connect(handler)
    yield received
    for signal, handler in handlers.items():
        signal.disconnect(handler)


def scheduled_logs(obj, action="wagtail.publish.scheduled"):
    return PageLogEntry.objects.filter(page=obj, action=action)


@pytest.mark.django_db
def test_first_publish_goes_live_at_its_time_once(seed, signals):
    with freeze_time(T0):
        post, revision = schedule_post(seed["blog"], "Scheduled news", T0 + dt.timedelta(hours=1))
    assert not post.live and Revision.objects.get(pk=revision.pk).approved_go_live_at

    with freeze_time(T0 + dt.timedelta(minutes=59, seconds=59)):
        scheduler_tasks.sweep()
        assert scheduler.publish_due_revision(revision.pk) == Outcome.NOT_DUE
    post.refresh_from_db()
    assert not post.live

    with freeze_time(T0 + dt.timedelta(hours=1, seconds=1)):
        scheduler_tasks.sweep()
        post.refresh_from_db()
        assert post.live and post.live_revision_id == revision.pk
        # Every further path finds nothing: the sweep again, the task, the command.
        scheduler_tasks.sweep()
        assert scheduler.publish_due_revision(revision.pk) == Outcome.NOTHING
        call_command("publish_scheduled", stdout=open("/dev/null", "w"))  # noqa: SIM115

    entries = scheduled_logs(post)
    assert entries.count() == 1 and entries.get().revision_id == revision.pk
    assert signals.count(("page_published", post.pk)) == 1
    assert signals.count(("published", post.pk)) == 1


@pytest.mark.django_db
def test_scheduled_update_of_a_live_page_replaces_its_content_at_its_time(seed, signals):
    post = seed["post"]
    old_title = post.title
    with freeze_time(T0):
        post.title = "Updated title"
        post.go_live_at = T0 + dt.timedelta(minutes=10)
        revision = post.save_revision()
        revision.publish()
    post.refresh_from_db()
    assert post.live and post.title == old_title  # the live version is untouched meanwhile

    with freeze_time(T0 + dt.timedelta(minutes=10)):
        assert scheduler.run_due_now() == {"published": 1}
    post.refresh_from_db()
    assert post.title == "Updated title" and post.live_revision_id == revision.pk
    assert scheduled_logs(post).count() == 1
    assert signals.count(("page_published", post.pk)) == 1


@pytest.mark.django_db
def test_scheduled_expiry_unpublishes_once(seed, signals):
    with freeze_time(T0):
        post = make_post(seed["blog"], "Short-lived", dt.date(2030, 1, 1), Author.objects.first())
        post.expire_at = T0 + dt.timedelta(days=1)
        post.save_revision().publish()
    post.refresh_from_db()
    assert post.live

    with freeze_time(T0 + dt.timedelta(days=1, seconds=-1)):
        scheduler_tasks.sweep()
    post.refresh_from_db()
    assert post.live

    with freeze_time(T0 + dt.timedelta(days=1, seconds=1)):
        scheduler_tasks.sweep()
        scheduler_tasks.sweep()
        ct = post.content_type_id
        assert scheduler.expire_due_object(ct, post.pk) == Outcome.NOTHING
    post.refresh_from_db()
    assert not post.live and post.expired
    assert scheduled_logs(post, "wagtail.unpublish.scheduled").count() == 1
    assert signals.count(("page_unpublished", post.pk)) == 1


@pytest.mark.django_db
def test_expiry_keeps_a_later_scheduled_comeback(seed):
    """Expire now, come back with a new revision later: both happen, in order."""
    with freeze_time(T0):
        post = make_post(seed["blog"], "Seasonal", dt.date(2030, 1, 1), Author.objects.first())
        post.expire_at = T0 + dt.timedelta(hours=1)
        post.save_revision().publish()
        post.refresh_from_db()
        post.title = "Seasonal, next season"
        post.go_live_at = T0 + dt.timedelta(hours=3)
        post.expire_at = None
        comeback = post.save_revision()
        comeback.publish()
    with freeze_time(T0 + dt.timedelta(hours=1, seconds=1)):
        scheduler_tasks.sweep()
    post.refresh_from_db()
    assert not post.live and post.expired
    assert Revision.objects.get(pk=comeback.pk).approved_go_live_at == T0 + dt.timedelta(hours=3)
    with freeze_time(T0 + dt.timedelta(hours=3, seconds=1)):
        scheduler_tasks.sweep()
    post.refresh_from_db()
    assert post.live and post.title == "Seasonal, next season" and not post.expired


@pytest.mark.django_db
def test_snippet_go_live_and_expiry(seed, signals):
    with freeze_time(T0):
        promo = Promo.objects.create(title="Screening week", live=False)
        promo.go_live_at = T0 + dt.timedelta(minutes=5)
        promo.expire_at = T0 + dt.timedelta(minutes=30)
        revision = promo.save_revision()
        revision.publish()
    promo.refresh_from_db()
    assert not promo.live

    with freeze_time(T0 + dt.timedelta(minutes=5, seconds=1)):
        scheduler_tasks.sweep()
        scheduler_tasks.sweep()
    promo.refresh_from_db()
    assert promo.live and promo.live_revision_id == revision.pk
    with freeze_time(T0 + dt.timedelta(minutes=30, seconds=1)):
        scheduler_tasks.sweep()
        scheduler_tasks.sweep()
    promo.refresh_from_db()
    assert not promo.live and promo.expired

    logs = ModelLogEntry.objects.filter(object_id=str(promo.pk))
    assert logs.filter(action="wagtail.publish.scheduled").count() == 1
    assert logs.filter(action="wagtail.unpublish.scheduled").count() == 1
    assert signals.count(("published", promo.pk)) == 1
    assert signals.count(("unpublished", promo.pk)) == 1


@pytest.mark.django_db
def test_cancelled_schedule_does_nothing_at_the_old_time(seed):
    with freeze_time(T0):
        post, revision = schedule_post(seed["blog"], "Cancelled", T0 + dt.timedelta(minutes=5))
        # What the admin's "cancel scheduled publish" does.
        revision.approved_go_live_at = None
        revision.save(update_fields=["approved_go_live_at"])
    with freeze_time(T0 + dt.timedelta(minutes=6)):
        scheduler_tasks.sweep()
        assert scheduler.publish_due_revision(revision.pk) == Outcome.NOTHING
    post.refresh_from_db()
    assert not post.live and not scheduled_logs(post).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("shift", [dt.timedelta(minutes=30), dt.timedelta(minutes=-3)])
def test_rescheduled_item_goes_live_at_the_new_time_only(seed, shift):
    old_time = T0 + dt.timedelta(minutes=10)
    new_time = old_time + shift
    with freeze_time(T0):
        post, first = schedule_post(seed["blog"], "Moved", old_time)
        post.go_live_at = new_time
        second = post.save_revision()
        second.publish()
    assert Revision.objects.get(pk=first.pk).approved_go_live_at is None

    earlier, later = sorted([old_time, new_time])
    with freeze_time(earlier + dt.timedelta(seconds=1)):
        scheduler_tasks.sweep()
        assert scheduler.publish_due_revision(first.pk) == Outcome.NOTHING
    post.refresh_from_db()
    assert post.live == (earlier == new_time)
    with freeze_time(later + dt.timedelta(seconds=1)):
        scheduler_tasks.sweep()
    post.refresh_from_db()
    assert post.live and post.live_revision_id == second.pk
    assert scheduled_logs(post).count() == 1


@pytest.mark.django_db
def test_go_live_already_past_when_approved_publishes_at_once(seed):
    with freeze_time(T0):
        post, revision = schedule_post(seed["blog"], "Late", T0 - dt.timedelta(minutes=1))
    assert post.live and post.live_revision_id == revision.pk


@pytest.mark.django_db
def test_expiry_before_go_live_is_refused_from_code(seed):
    with freeze_time(T0), pytest.raises(ValidationError) as error:
        schedule_post(
            seed["blog"], "Impossible", T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=1)
        )
    assert "expiry" in str(error.value)
    assert not Revision.objects.filter(approved_go_live_at__isnull=False).exists()


@pytest.mark.django_db
def test_admin_form_refuses_expiry_before_go_live_for_pages_and_snippets(seed):
    from wagtail.admin.forms.models import WagtailAdminDraftStateFormMixin
    from wagtail.admin.panels import FieldPanel, ObjectList, PublishingPanel

    page_form_class = BlogPostPage.get_edit_handler().get_form_class()
    assert issubclass(page_form_class, WagtailAdminDraftStateFormMixin)  # same check as below
    data = {"title": "x", "go_live_at": "2030-05-02 10:00", "expire_at": "2030-05-01 10:00"}
    # Promo's own panels lack PublishingPanel (see report); the snippet admin form with it:
    panels = ObjectList([FieldPanel("title"), PublishingPanel()]).bind_to_model(Promo)
    form = panels.get_form_class()(data=data, instance=Promo(), for_user=None)
    assert not form.is_valid()
    assert "Go live date/time must be before expiry date/time" in str(form.errors["expire_at"])


@pytest.mark.django_db
def test_due_item_that_would_arrive_expired_is_skipped_visibly(seed):
    with freeze_time(T0):
        post, revision = schedule_post(
            seed["blog"], "Equal times", T0 + dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=1)
        )
    with freeze_time(T0 + dt.timedelta(minutes=2)):
        assert scheduler.publish_due_revision(revision.pk) == Outcome.SKIPPED
        scheduler_tasks.sweep()
    post.refresh_from_db()
    assert not post.live
    issue = ScheduleIssue.objects.get(revision_id=revision.pk)
    assert issue.final and "expired" in issue.reason and issue.title == "Equal times"


@pytest.mark.django_db
def test_go_live_is_skipped_when_its_scheduler_may_no_longer_publish(seed, django_user_model):
    editors = Group.objects.create(name="Scheduling editors")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=editors, page=seed["blog"], permission=Permission.objects.get(codename=codename)
        )
    editor = django_user_model.objects.create_user("editor", password="x")  # noqa: S106
    editor.groups.add(editors)
    with freeze_time(T0):
        post, revision = schedule_post(
            seed["blog"], "Needs rights", T0 + dt.timedelta(minutes=5), user=editor
        )
    editor.is_active = False  # left the department
    editor.save()
    with freeze_time(T0 + dt.timedelta(minutes=6)):
        scheduler_tasks.sweep()
    post.refresh_from_db()
    assert not post.live
    issue = ScheduleIssue.objects.get(revision_id=revision.pk)
    assert "editor" in issue.reason and issue.final
    assert Revision.objects.get(pk=revision.pk).approved_go_live_at is None


@pytest.mark.django_db
def test_deleted_revision_is_skipped_and_the_sweep_carries_on(seed):
    with freeze_time(T0):
        post_a, rev_a = schedule_post(seed["blog"], "Deleted rev", T0 + dt.timedelta(minutes=1))
        post_b, rev_b = schedule_post(seed["blog"], "Kept", T0 + dt.timedelta(minutes=1))
    Revision.objects.filter(pk=rev_a.pk).delete()
    with freeze_time(T0 + dt.timedelta(minutes=2)):
        assert scheduler.publish_due_revision(rev_a.pk) == Outcome.NOTHING
        scheduler_tasks.sweep()
    post_b.refresh_from_db()
    post_a.refresh_from_db()
    assert post_b.live and not post_a.live


@pytest.mark.django_db
def test_release_one_failure_does_not_block_the_others(seed):
    with freeze_time(T0):
        items = [
            schedule_post(seed["blog"], f"Release item {i}", T0 + dt.timedelta(hours=1))
            for i in range(4)
        ]
    broken_post, broken_rev = items[2]

    def explode(sender, instance, **kwargs):
        if instance.pk == broken_post.pk:
            raise RuntimeError("search index unavailable")

    # In the go-live transaction (the page save), not after it (test_follow_up_*).
    post_save.connect(explode, sender=BlogPostPage)
    try:
        with freeze_time(T0 + dt.timedelta(hours=1)):
            counts = scheduler.run_due_now()
    finally:
        post_save.disconnect(explode, sender=BlogPostPage)
    assert counts == {"published": 3, "failed": 1}
    for post, _revision in items:
        post.refresh_from_db()
        assert post.live == (post.pk != broken_post.pk)
    # Nothing half-published: the failed page is untouched and still scheduled.
    assert not scheduled_logs(broken_post).exists()
    assert Revision.objects.get(pk=broken_rev.pk).approved_go_live_at == T0 + dt.timedelta(hours=1)
    issue = ScheduleIssue.objects.get(revision_id=broken_rev.pk)
    assert "search index unavailable" in issue.reason and not issue.final

    # Fixed: the next run publishes it and the problem is marked resolved.
    with freeze_time(T0 + dt.timedelta(hours=1, minutes=1)):
        assert scheduler.run_due_now() == {"published": 1}
    broken_post.refresh_from_db()
    assert broken_post.live
    assert not ScheduleIssue.objects.filter(resolved=False).exists()


@pytest.mark.django_db
def test_item_failing_repeatedly_stops_being_retried(seed):
    with freeze_time(T0):
        post, revision = schedule_post(seed["blog"], "Always fails", T0 + dt.timedelta(minutes=1))

    def explode(sender, instance, **kwargs):
        raise RuntimeError("broken")

    post_save.connect(explode, sender=BlogPostPage)  # in the go-live transaction
    try:
        for minute in range(2, 8):
            with freeze_time(T0 + dt.timedelta(minutes=minute)):
                scheduler_tasks.sweep()
    finally:
        post_save.disconnect(explode, sender=BlogPostPage)
    assert ScheduleIssue.objects.get(revision_id=revision.pk).attempts == scheduler.MAX_ATTEMPTS


# --- time zones ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "utc"),
    [
        # Spring forward 2027-03-14: 02:00 PST jumps to 03:00 PDT.
        ("2027-03-14 01:59", dt.datetime(2027, 3, 14, 9, 59, tzinfo=UTC)),
        ("2027-03-14 03:00", dt.datetime(2027, 3, 14, 10, 0, tzinfo=UTC)),
        # Fall back 2027-11-07: 02:00 PDT goes back to 01:00 PST.
        ("2027-11-07 00:30", dt.datetime(2027, 11, 7, 7, 30, tzinfo=UTC)),
        ("2027-11-07 02:30", dt.datetime(2027, 11, 7, 10, 30, tzinfo=UTC)),
    ],
)
def test_admin_time_across_dst_is_stored_as_the_meant_utc_instant(seed, settings, typed, utc):
    settings.TIME_ZONE = "America/Los_Angeles"
    field = BlogPostPage.get_edit_handler().get_form_class().base_fields["go_live_at"]
    with timezone.override(LA):
        assert field.clean(typed) == utc


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["2027-03-14 02:30", "2027-11-07 01:30"])
def test_skipped_or_repeated_local_hour_is_a_form_error_not_a_guess(seed, typed):
    field = BlogPostPage.get_edit_handler().get_form_class().base_fields["go_live_at"]
    with timezone.override(LA), pytest.raises(ValidationError) as error:
        field.clean(typed)
    assert "ambiguous" in str(error.value) or "not exist" in str(error.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "local",
    [
        dt.datetime(2027, 3, 14, 3, 30, tzinfo=LA),  # first half hour after spring-forward
        dt.datetime(2027, 11, 7, 1, 30, fold=0, tzinfo=LA),  # repeated hour, first (PDT)
        dt.datetime(2027, 11, 7, 1, 30, fold=1, tzinfo=LA),  # repeated hour, second (PST)
    ],
)
def test_dst_schedule_goes_live_at_that_instant_not_an_hour_off(seed, local):
    instant = local.astimezone(UTC)
    with freeze_time(instant - dt.timedelta(days=2)):
        post, revision = schedule_post(seed["blog"], "DST", local)
    assert Revision.objects.get(pk=revision.pk).approved_go_live_at == instant
    with freeze_time(instant - dt.timedelta(seconds=1)):
        scheduler_tasks.sweep()
    post.refresh_from_db()
    assert not post.live
    with freeze_time(instant):
        scheduler_tasks.sweep()
    post.refresh_from_db()
    assert post.live


# --- the management command --------------------------------------------------------------


@pytest.mark.django_db
def test_publish_scheduled_command_skips_a_bad_item_and_finishes_the_run(seed, capsys):
    with freeze_time(T0):
        posts = [
            schedule_post(seed["blog"], f"Cmd {i}", T0 + dt.timedelta(minutes=1)) for i in range(3)
        ]
    bad_post = posts[0][0]

    def explode(sender, instance, **kwargs):
        if instance.pk == bad_post.pk:
            raise RuntimeError("bad item")

    post_save.connect(explode, sender=BlogPostPage)  # in the go-live transaction
    try:
        with freeze_time(T0 + dt.timedelta(minutes=2)):
            call_command("publish_scheduled")
    finally:
        post_save.disconnect(explode, sender=BlogPostPage)
    out = capsys.readouterr().out
    assert "2 published" in out and "1 failed" in out
    assert [BlogPostPage.objects.get(pk=p.pk).live for p, _ in posts] == [False, True, True]


@pytest.mark.django_db
def test_publish_scheduled_dryrun_changes_nothing(seed, capsys):
    with freeze_time(T0):
        post, revision = schedule_post(seed["blog"], "Dry", T0 + dt.timedelta(minutes=1))
    with freeze_time(T0 + dt.timedelta(minutes=2)):
        call_command("publish_scheduled", "--dryrun")
    assert f"revision {revision.pk}" in capsys.readouterr().out
    post.refresh_from_db()
    assert not post.live


# --- the admin report -------------------------------------------------------------------


@pytest.mark.django_db
def test_scheduled_report_lists_items_in_site_zone_and_flags_overdue(seed, client, admin_user):
    with freeze_time(T0):
        schedule_post(seed["blog"], "Overdue post", T0 + dt.timedelta(minutes=1))
        schedule_post(seed["blog"], "Future post", T0 + dt.timedelta(days=30))
        promo = Promo.objects.create(title="Live promo", live=True)
        promo.expire_at = T0 + dt.timedelta(days=2)
        promo.save_revision().publish()
    with freeze_time(T0 + dt.timedelta(minutes=5)):
        client.force_login(admin_user)  # a session made at the real time has expired by 2030
        content = client.get("/admin/reports/scheduled/").content.decode()
    assert "America/Los_Angeles" in content
    # 2030-05-01 12:01 UTC is 05:01 PDT; 2030-05-31 12:00 UTC is 05:00 PDT.
    assert "2030-05-01 05:01:00 PDT" in content and "2030-05-31 05:00:00 PDT" in content
    assert "2030-05-03 05:00:00 PDT" in content and "Live promo" in content
    overdue_row = content[content.index("Overdue post") - 600 : content.index("Overdue post") + 400]
    assert "scheduled-row--overdue" in overdue_row and "Overdue" in overdue_row
    future_row = content[content.index("Future post") - 600 : content.index("Future post") + 400]
    assert "scheduled-row--overdue" not in future_row and "Pending" in future_row
    assert (
        content.index("Overdue post") < content.index("Live promo") < content.index("Future post")
    )


@pytest.mark.django_db
def test_scheduled_report_shows_problems(seed, client, admin_user):
    with freeze_time(T0):
        post, revision = schedule_post(
            seed["blog"],
            "Arrives expired",
            T0 + dt.timedelta(minutes=1),
            T0 + dt.timedelta(minutes=1),
        )
    with freeze_time(T0 + dt.timedelta(minutes=2)):
        scheduler_tasks.sweep()
        client.force_login(admin_user)  # a session made at the real time has expired by 2030
        content = client.get("/admin/reports/scheduled/").content.decode()
    assert "Problems" in content and "Skipped:" in content and "Arrives expired" in content


@pytest.mark.django_db
def test_due_update_that_moves_the_expiry_is_published_before_the_old_expiry(seed):
    with freeze_time(T0):
        post = make_post(seed["blog"], "Extended", dt.date(2030, 1, 1), Author.objects.first())
        post.expire_at = T0 + dt.timedelta(hours=1)
        post.save_revision().publish()
        post.refresh_from_db()
        post.title = "Extended for a week"
        post.go_live_at = T0 + dt.timedelta(hours=1)
        post.expire_at = T0 + dt.timedelta(days=7)
        post.save_revision().publish()
    with freeze_time(T0 + dt.timedelta(hours=1, seconds=1)):
        counts = scheduler.run_due_now()
    assert counts == {"deferred": 1, "published": 1}  # then nothing is due to expire
    post.refresh_from_db()
    assert post.live and post.title == "Extended for a week"
    assert post.expire_at == T0 + dt.timedelta(days=7)
    assert not scheduled_logs(post, "wagtail.unpublish.scheduled").exists()


def test_only_a_worker_on_the_default_queue_resets_the_armed_markers(monkeypatch, settings):
    """The I/O worker (webhook queue only) holds no wake-ups: its restart re-arms nothing."""
    from types import SimpleNamespace

    from kombu import Queue

    from cms.celery import app

    resets = []
    monkeypatch.setattr(scheduler, "forget_armed", lambda: resets.append(1) or 0)

    def consumer(*names):
        return SimpleNamespace(
            task_consumer=SimpleNamespace(queues=[Queue(n) for n in names]), app=app
        )

    scheduler_tasks._rearm_after_worker_start(sender=consumer(settings.WEBHOOK_QUEUE))
    assert resets == []
    scheduler_tasks._rearm_after_worker_start(sender=consumer(app.conf.task_default_queue))
    assert resets == [1]
