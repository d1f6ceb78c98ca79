"""Clinical governance: the Clinical review gates every publish path; reviews lapse once.

The gate is on in this module only (``clinical_gate`` marker; tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from wagtail.models import APIToken, PageLogEntry, Workflow

from cms import publish_gate
from cms.models import Author, BlogPostPage, EventResourcesPage
from publishing.governance import gate, lapse
from publishing.models import ScheduleIssue, WebhookEvent
from publishing.models.governance import (
    CLINICAL_REVIEW_WORKFLOW,
    CLINICAL_REVIEWERS_GROUP,
    ClinicalGovernanceSettings,
    LapseAction,
)
from publishing.scheduler import engine
from screening.models import ProgramPage, ScreenerPage
from tests.screening.test_clinical_safety import edit_form_data

pytestmark = [pytest.mark.django_db, pytest.mark.clinical_gate]


@pytest.fixture
def reviewer(django_user_model):
    user = django_user_model.objects.create_user(
        "dr.lee", password="pw-for-tests", first_name="Dana", last_name="Lee"
    )
    user.groups.add(Group.objects.get(name=CLINICAL_REVIEWERS_GROUP))
    return user


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_superuser("editor", password="pw-for-tests")


@pytest.fixture
def screener(seed) -> ScreenerPage:
    return ScreenerPage.objects.get()


def policy(**values) -> ClinicalGovernanceSettings:
    from wagtail.models import Site

    setting = ClinicalGovernanceSettings.for_site(Site.objects.get(is_default_site=True))
    for name, value in values.items():
        setattr(setting, name, value)
    setting.save()
    return setting


def edit(page, editor, **changes):
    """A new draft revision of ``page`` (by ``editor``), as the admin saves one."""
    page = type(page).objects.get(pk=page.pk).get_latest_revision_as_object()
    for name, value in changes.items():
        setattr(page, name, value)
    return page.save_revision(user=editor)


def approve(page, reviewer, submitter, comment="Checked against NICE NG234."):
    """Submit ``page``'s latest revision for clinical review and approve it."""
    page = type(page).objects.get(pk=page.pk)
    workflow = page.get_workflow()
    assert workflow is not None and workflow.name == CLINICAL_REVIEW_WORKFLOW
    state = workflow.start(page, submitter)
    task_state = state.current_task_state
    revision = task_state.revision
    task_state.task.specific.on_action(task_state, reviewer, "approve", comment=comment)
    revision.refresh_from_db()
    return revision


def live_revision_id(page) -> int | None:
    return type(page).objects.values_list("live_revision_id", flat=True).get(pk=page.pk)


# --- set-up and seed --------------------------------------------------------------------


def test_seed_loads_the_screener_live_unreviewed_and_listed_for_signoff(screener, admin_client):
    """The seed loader publishes as a system action; the screener says it is unreviewed."""
    assert screener.live and screener.needs_clinical_signoff()
    assert screener.reviewed_by_id is None and screener.last_reviewed is None
    workflow = Workflow.objects.get(name=CLINICAL_REVIEW_WORKFLOW)
    task = workflow.tasks.get().specific
    assert list(task.groups.values_list("name", flat=True)) == [CLINICAL_REVIEWERS_GROUP]
    assert screener.get_workflow() == workflow  # the policy: screeners need it
    assert ProgramPage.objects.get().get_workflow() != workflow  # switchable, off by default

    html = admin_client.get(screener.url).content.decode()
    assert "Not yet clinically reviewed." in html
    # Idempotent: a second load changes nothing and keeps one workflow.
    from django.core.management import call_command

    call_command("load_seed_content", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Workflow.objects.filter(name=CLINICAL_REVIEW_WORKFLOW).count() == 1


def test_the_seed_loader_restores_a_missing_clinical_review_setup(screener):
    """A flushed database (transactional tests) or a dump without the migration's rows."""
    from django.core.management import call_command
    from wagtail.models import Task

    Workflow.objects.filter(name=CLINICAL_REVIEW_WORKFLOW).delete()
    Task.objects.filter(name="Clinical review").delete()
    Group.objects.filter(name=CLINICAL_REVIEWERS_GROUP).delete()
    call_command("load_seed_content", stdout=open("/dev/null", "w"))  # noqa: SIM115
    workflow = ScreenerPage.objects.get(pk=screener.pk).get_workflow()
    assert workflow.name == CLINICAL_REVIEW_WORKFLOW
    task = workflow.tasks.get().specific
    assert list(task.groups.values_list("name", flat=True)) == [CLINICAL_REVIEWERS_GROUP]
    group = Group.objects.get(name=CLINICAL_REVIEWERS_GROUP)
    # Admin access to approve with; no page permissions (publishing is the approval's).
    assert not group.page_permissions.exists()
    assert list(group.permissions.values_list("codename", flat=True)) == ["access_admin"]


def test_a_reviewer_without_publish_rights_approves_in_the_admin(
    screener, editor, reviewer, client
):
    """Wagtail lets the task's group open the editor and approve; the approval publishes."""
    page = ScreenerPage.objects.get(pk=screener.pk)
    assert not page.permissions_for_user(reviewer).can_publish()
    revision = edit(page, editor, question="Approved in the admin?")
    task_state = page.get_workflow().start(page, editor).current_task_state
    client.force_login(reviewer)
    assert client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).status_code == 200
    url = reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", task_state.pk])
    response = client.post(url, {"comment": "Checked against NICE NG234."})
    assert response.status_code == 302
    assert live_revision_id(page) == revision.pk
    page.refresh_from_db()
    assert page.question == "Approved in the admin?" and page.reviewed_by.user == reviewer
    # Approving gave no other right: publishing outside the workflow is still refused.
    assert not page.permissions_for_user(reviewer).can_publish()


# --- every publish path refuses an unapproved revision ----------------------------------


def test_revision_publish_from_code_is_refused_without_approval(screener, editor):
    before = live_revision_id(screener)
    revision = edit(screener, editor, question="Changed without review?")
    with pytest.raises(publish_gate.PublishRefused, match="clinical review"):
        revision.publish(user=editor, skip_permission_checks=True)
    assert live_revision_id(screener) == before
    assert ScreenerPage.objects.get(pk=screener.pk).question != "Changed without review?"


def test_admin_publish_and_schedule_are_refused_even_for_a_superuser(screener, admin_client):
    before = live_revision_id(screener)
    url = reverse("wagtailadmin_pages:edit", args=[screener.pk])
    rules = [
        {
            "items": [str(text) for text in rule.value["items"]],
            "urgency": rule.value["urgency"],
            "source": rule.value["source"],
            "rationale": rule.value["rationale"],
        }
        for rule in screener.rules
    ]
    data = {**edit_form_data(screener, rules), "action-publish": "action-publish"}
    data["question"] = "Published by a superuser?"
    response = admin_client.post(url, data, follow=True)
    content = response.content.decode()
    assert "needs an approved clinical review of this exact version" in content
    assert live_revision_id(screener) == before

    # "Schedule to publish" is the same action with a go-live time: refused too.
    go_live = timezone.localtime(timezone.now() + dt.timedelta(days=1))
    data["go_live_at"] = go_live.strftime("%Y-%m-%d %H:%M")
    response = admin_client.post(url, data, follow=True)
    assert "needs an approved clinical review" in response.content.decode()
    assert not screener.revisions.filter(approved_go_live_at__isnull=False).exists()


def test_api_v3_publish_action_is_refused_with_a_json_reason(screener, editor, client):
    edit(screener, editor, question="Published through the API?")
    before = live_revision_id(screener)
    _token, key = APIToken.create_token(user=editor, name="tool")
    response = client.post(
        f"/api/v3/pages/{screener.pk}/actions/publish/", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 403
    assert "clinical review" in json.dumps(response.json())
    assert live_revision_id(screener) == before


def test_approval_publishes_that_revision_and_records_the_review(
    screener, editor, reviewer, client
):
    revision = edit(screener, editor, question="Reviewed question?")
    approved = approve(screener, reviewer, editor)
    assert approved.pk == revision.pk
    page = ScreenerPage.objects.get(pk=screener.pk)
    assert page.live_revision_id == revision.pk and page.question == "Reviewed question?"
    today = timezone.localdate()
    assert page.reviewed_by == Author.objects.get(user=reviewer)
    assert page.reviewed_by.name == "Dana Lee"
    assert page.last_reviewed == today
    assert page.next_review_due == today.replace(year=today.year + 1)  # 12 months
    assert not page.needs_clinical_signoff()  # the screener's own sign-off filled too

    html = client.get(page.url).content.decode()
    assert "Reviewed by Dana Lee." in html
    assert f'datetime="{today.isoformat()}"' in html
    assert "Next review due" in html
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html).group(1))
    medical = next(n for n in ld["@graph"] if n.get("@type") == "MedicalWebPage")
    assert medical["lastReviewed"] == today.isoformat()
    assert medical["reviewedBy"]["name"] == "Dana Lee"
    api = client.get(f"/api/v2/pages/{page.pk}/").json()
    assert api["last_reviewed"] == today.isoformat() and api["review_lapsed"] is False


def test_an_edit_after_approval_needs_a_new_approval(screener, editor, reviewer):
    approve(screener, reviewer, editor)
    approved_live = live_revision_id(screener)
    later = edit(screener, editor, question="Edited after approval?")
    with pytest.raises(publish_gate.PublishRefused):
        later.publish(user=editor)
    assert live_revision_id(screener) == approved_live
    assert approve(screener, reviewer, editor).pk == later.pk
    assert live_revision_id(screener) == later.pk


def test_an_edit_during_review_stays_a_draft_the_approved_revision_goes_live(
    screener, editor, reviewer
):
    submitted = edit(screener, editor, question="Submitted version?")
    workflow = ScreenerPage.objects.get(pk=screener.pk).get_workflow()
    state = workflow.start(ScreenerPage.objects.get(pk=screener.pk), editor)
    edit(screener, editor, question="Edited while in review?")
    task_state = state.current_task_state
    task_state.task.specific.on_action(task_state, reviewer, "approve", comment="")
    page = ScreenerPage.objects.get(pk=screener.pk)
    assert page.live_revision_id == submitted.pk
    assert page.question == "Submitted version?" and page.has_unpublished_changes


def test_policy_switches_other_health_types_on(seed, editor):
    post = BlogPostPage.objects.get()
    edit(post, editor, title="Not gated yet").publish(user=editor)  # off by default
    policy(blog_requires_review=True)
    with pytest.raises(publish_gate.PublishRefused):
        edit(post, editor, title="Gated now").publish(user=editor)


def test_a_batch_reads_the_policy_once_and_the_next_batch_reads_it_again(
    seed, django_assert_num_queries
):
    """The scheduler reads each page's policy once per batch (``memoised``), never
    longer: a setting changed between two batches applies to the second."""
    from publishing.governance.policy import memoised, policy_for

    post = BlogPostPage.objects.get()
    with memoised():
        assert not policy_for(post).requires_review
        with django_assert_num_queries(0):
            for _ in range(3):
                assert not policy_for(post).requires_review
    policy(blog_requires_review=True)
    with memoised():
        assert policy_for(post).requires_review


def test_a_batch_reads_each_pages_own_site_policy_and_its_pages_share_the_read(
    seed, django_assert_num_queries
):
    """Within a batch the site of each page is found from one copy of the site root
    paths: a page of another site gets that site's policy, and a further page of a site
    already read costs no query."""
    from wagtail.models import Page, Site

    from cms.models import BlogIndexPage
    from publishing.governance.policy import memoised, policy_for
    from tests.factories import make_post

    other_blog = Page.get_first_root_node().add_child(
        instance=BlogIndexPage(title="Other blog", slug="other-blog")
    )
    other_site = Site.objects.create(hostname="other.example.org", port=80, root_page=other_blog)
    setting = ClinicalGovernanceSettings.for_site(other_site)
    setting.blog_requires_review = True
    setting.save()
    author = Author.objects.first()
    here = [make_post(seed["blog"], f"Here {i}", dt.date(2030, 1, 1), author) for i in range(2)]
    there = [
        make_post(other_blog, f"There {i}", dt.date(2030, 1, 1), author, publish=False)
        for i in range(2)
    ]
    with memoised():
        assert [policy_for(p).requires_review for p in (here[0], there[0])] == [False, True]
        with django_assert_num_queries(0):
            assert [policy_for(p).requires_review for p in (here[1], there[1])] == [False, True]


# --- the scheduler: on time when approved, held when not ----------------------------------


def schedule(page, editor, reviewer, go_live: dt.datetime, **changes):
    """An approved revision scheduled for ``go_live`` (approval publishes = schedules)."""
    revision = edit(page, editor, go_live_at=go_live, **changes)
    approved = approve(page, reviewer, editor)
    assert approved.pk == revision.pk
    revision.refresh_from_db()
    assert revision.approved_go_live_at == go_live
    return revision


def test_an_approved_revision_scheduled_for_later_goes_live_at_its_time(screener, editor, reviewer):
    go_live = (timezone.now() + dt.timedelta(hours=2)).replace(microsecond=0)
    revision = schedule(screener, editor, reviewer, go_live, question="At two?")
    before = live_revision_id(screener)
    with freeze_time(go_live - dt.timedelta(seconds=1)):
        assert engine.publish_due_revision(revision.pk) == engine.Outcome.NOT_DUE
    assert live_revision_id(screener) == before
    with freeze_time(go_live):
        assert engine.publish_due_revision(revision.pk) == engine.Outcome.PUBLISHED
    assert live_revision_id(screener) == revision.pk


def test_a_review_lapsing_before_go_live_holds_it_and_the_scheduler_carries_on(
    screener, seed, editor, reviewer, admin_client
):
    policy(screener_review_months=1)
    go_live = (timezone.now() + dt.timedelta(days=40)).replace(microsecond=0)
    revision = schedule(screener, editor, reviewer, go_live, question="Lapsed by then?")
    other = seed["post"]
    other_revision = edit(other, editor, title="Due at the same time", go_live_at=go_live)
    other_revision.publish(user=editor)
    before = live_revision_id(screener)

    with freeze_time(go_live):
        assert engine.publish_due_revision(revision.pk) == engine.Outcome.HELD
        assert engine.publish_due_revision(other_revision.pk) == engine.Outcome.PUBLISHED
    assert live_revision_id(other) == other_revision.pk  # the scheduler carried on
    assert live_revision_id(screener) == before  # not published
    revision.refresh_from_db()
    assert revision.approved_go_live_at == go_live  # not dropped
    issue = ScheduleIssue.objects.get(revision_id=revision.pk, resolved=False)
    assert "lapsed" in issue.reason and issue.final
    # Held items are not re-armed in a loop; an editor sees them.
    assert ("publish", str(screener.pk), revision.pk) in engine.blocked_issue_keys()
    report = admin_client.get("/admin/reports/scheduled/").content.decode()
    assert "lapsed" in report and screener.title in report
    dashboard = admin_client.get("/admin/").content.decode()
    assert "Held: scheduled to go live, but no valid clinical review" in dashboard


def test_a_revision_scheduled_before_its_type_was_gated_is_held_at_go_live(seed, editor):
    program = ProgramPage.objects.get()
    go_live = (timezone.now() + dt.timedelta(hours=1)).replace(microsecond=0)
    revision = edit(program, editor, title="Program, scheduled", go_live_at=go_live)
    revision.publish(user=editor)  # not gated yet: scheduled
    policy(program_requires_review=True)
    with freeze_time(go_live):
        assert engine.publish_due_revision(revision.pk) == engine.Outcome.HELD
    revision.refresh_from_db()
    assert revision.approved_go_live_at == go_live
    assert "needs an approved clinical review" in ScheduleIssue.objects.get().reason


# --- lapse: on time, exactly once ---------------------------------------------------------


@pytest.fixture
def partner(db):
    from publishing.models import Partner

    return Partner.objects.create(name="Partner", endpoint_url="https://partner.example/hook")


BANNER = "This information is being reviewed."


def assert_banner_at_the_top(html: str) -> None:
    """The banner opens the main content, before the heading; the review footer stays."""
    main = html[html.index('<main id="main"') :]
    assert main.count(BANNER) == 1
    assert main.index(BANNER) < main.index("<h1")
    assert main.index("<h1") < main.index('class="review"')


def test_every_health_page_type_shows_a_lapsed_review_at_the_top(seed, client):
    publish_program()
    today = timezone.localdate()
    for model in (BlogPostPage, EventResourcesPage, ScreenerPage, ProgramPage):
        page = model.objects.filter(live=True).first()
        model.objects.filter(pk=page.pk).update(next_review_due=today, review_lapsed_on=today)
        assert_banner_at_the_top(client.get(page.url).content.decode())
    home = client.get("/").content.decode()
    assert BANNER not in home  # not a health page


def test_a_review_lapses_at_its_instant_exactly_once(screener, editor, reviewer, client, partner):
    """Through the scheduler's machinery: armed for the instant, claimed once, audited once."""
    approve(screener, reviewer, editor)
    page = ScreenerPage.objects.get(pk=screener.pk)
    due = page.next_review_due
    instant = lapse.lapse_at(due)
    assert instant == timezone.make_aware(dt.datetime.combine(due, dt.time.min))
    before = instant - dt.timedelta(seconds=1)
    _candidates, wake_ups = engine.wake_ups_to_arm(before - dt.timedelta(seconds=30))
    assert engine.WakeUp("lapse", ("screening.screenerpage", page.pk), instant) in wake_ups
    label = "screening.screenerpage"
    assert engine.run_due_now(before) == {}
    assert engine.lapse_due_page(label, page.pk, before) == engine.Outcome.NOTHING
    assert engine.run_due_now(instant) == {"lapsed": 1}
    assert engine.run_due_now(instant) == {}  # a second sweep finds nothing
    # A re-delivered wake-up:
    assert engine.lapse_due_page(label, page.pk, instant) == engine.Outcome.NOTHING

    page.refresh_from_db()
    assert page.review_lapsed_on == due and page.live
    entries = PageLogEntry.objects.filter(page=page, action=lapse.LOG_ACTION)
    assert [entry.data["scheduled_at"] for entry in entries] == [instant.isoformat()]
    assert WebhookEvent.objects.filter(type="page.review_lapsed", page_id=page.pk).count() == 1
    assert_banner_at_the_top(client.get(page.url).content.decode())
    assert client.get(f"/api/v2/pages/{page.pk}/").json()["review_lapsed"] is True

    # A new approval clears the banner and sets the next due date.
    approve(page, reviewer, editor)
    page.refresh_from_db()
    assert page.review_lapsed_on is None and not page.review_lapsed


def test_the_lapse_time_of_day_is_a_setting(screener, editor, reviewer, settings):
    settings.CLINICAL_REVIEW_LAPSE_TIME = "07:30:05"
    approve(screener, reviewer, editor)
    page = ScreenerPage.objects.get(pk=screener.pk)
    instant = timezone.make_aware(dt.datetime.combine(page.next_review_due, dt.time(7, 30, 5)))
    assert lapse.lapse_at(page.next_review_due) == instant
    assert engine.run_due_now(instant - dt.timedelta(microseconds=1)) == {}
    assert engine.run_due_now(instant) == {"lapsed": 1}
    # The publish gate holds a go-live by the same instant (one rule: policy.lapse_at).
    approved = page.live_revision
    assert gate.refusal(approved, page, instant - dt.timedelta(microseconds=1)) is None
    assert "lapsed" in gate.refusal(approved, page, instant)


def test_a_new_due_date_is_armed_anew_and_the_old_wake_up_does_nothing(screener, editor, reviewer):
    approve(screener, reviewer, editor)
    page = ScreenerPage.objects.get(pk=screener.pk)
    first = lapse.lapse_at(page.next_review_due)
    with freeze_time(timezone.now() + dt.timedelta(days=3)):
        approve(page, reviewer, editor)  # re-approved: due again three days later
    page.refresh_from_db()
    second = lapse.lapse_at(page.next_review_due)
    assert second - first == dt.timedelta(days=3)
    label = "screening.screenerpage"
    _candidates, wake_ups = engine.wake_ups_to_arm(second - dt.timedelta(seconds=30))
    assert engine.WakeUp("lapse", (label, page.pk), second) in wake_ups
    # The wake-up armed for the old instant finds the review no longer due.
    assert engine.lapse_due_page(label, page.pk, first) == engine.Outcome.NOTHING
    assert not PageLogEntry.objects.filter(page=page, action=lapse.LOG_ACTION).exists()
    assert engine.lapse_due_page(label, page.pk, second) == engine.Outcome.LAPSED


def test_the_publish_scheduled_command_lists_and_applies_due_lapses(screener):
    from io import StringIO

    from django.core.management import call_command

    ScreenerPage.objects.update(next_review_due=timezone.localdate())
    out = StringIO()
    call_command("publish_scheduled", "--dryrun", stdout=out)
    assert "1 clinical reviews due to lapse:" in out.getvalue()
    assert f"screening.screenerpage {screener.pk}" in out.getvalue()
    call_command("publish_scheduled", stdout=out)
    assert "1 lapsed" in out.getvalue()
    assert PageLogEntry.objects.filter(page_id=screener.pk, action=lapse.LOG_ACTION).count() == 1


def test_healthz_calls_an_unapplied_lapse_overdue(screener, settings):
    from publishing.health import scheduler_health

    settings.HEALTH_OVERDUE_GRACE_SECONDS = 60
    ScreenerPage.objects.update(next_review_due=timezone.localdate())
    with freeze_time(lapse.lapse_at(timezone.localdate()) + dt.timedelta(seconds=59)):
        assert scheduler_health()["ok"] is True  # within the grace
    with freeze_time(lapse.lapse_at(timezone.localdate()) + dt.timedelta(seconds=61)):
        assert scheduler_health() == {
            "ok": False,
            "overdue": 1,
            "needs_editor": 0,
            "follow_ups_late": 0,
        }
        engine.run_due_now()
        assert scheduler_health()["ok"] is True


def test_a_lapse_can_unpublish_when_the_policy_says_so(screener, editor, reviewer):
    policy(screener_lapse=LapseAction.UNPUBLISH)
    approve(screener, reviewer, editor)
    page = ScreenerPage.objects.get(pk=screener.pk)
    when = timezone.make_aware(dt.datetime.combine(page.next_review_due, dt.time(9)))
    assert engine.run_due_now(when) == {"lapsed": 1}
    page.refresh_from_db()
    assert not page.live and page.review_lapsed_on == page.next_review_due


def publish_program() -> ProgramPage:
    """The seed keeps the title-only program page a draft; these tests need it live."""
    program = ProgramPage.objects.get()
    program.save_revision().publish()  # not gated by default
    return ProgramPage.objects.get(pk=program.pk)


def test_the_overdue_report_lists_every_health_type(seed, admin_client):
    publish_program()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    for model in (BlogPostPage, ScreenerPage, ProgramPage):
        model.objects.update(next_review_due=yesterday)
    content = admin_client.get("/admin/reports/reviews-due/").content.decode()
    for model in (BlogPostPage, ScreenerPage, ProgramPage):
        assert f"/admin/pages/{model.objects.get().pk}/edit/" in content, model


@pytest.mark.django_db(transaction=True)
def test_two_claimants_racing_for_each_lapse_apply_it_once(seed, partner):
    """The scheduler's claim: on PostgreSQL ``FOR UPDATE SKIP LOCKED``, on SQLite the
    IMMEDIATE write lock; the loser's re-check finds ``review_lapsed_on`` already set."""
    import threading

    from django.db import connection

    publish_program()
    due = timezone.localdate()
    ScreenerPage.objects.update(next_review_due=due)
    ProgramPage.objects.update(next_review_due=due)
    BlogPostPage.objects.update(next_review_due=due)
    targets = [(label, pk) for label, pk, _at in lapse.due_lapses(timezone.now())]
    assert len(targets) == 3
    results: dict[tuple[str, int], list[bool]] = {target: [] for target in targets}
    barrier = threading.Barrier(2, timeout=60)
    errors = []

    def claimant() -> None:
        try:
            for label, page_id in targets:
                barrier.wait()  # both start on the same page at the same moment
                results[(label, page_id)].append(engine.lapse_due_page(label, page_id))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimant) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    for (_label, page_id), outcome in results.items():
        assert sorted(outcome) == ["lapsed", "nothing to do"], (page_id, outcome)
        assert PageLogEntry.objects.filter(page_id=page_id, action=lapse.LOG_ACTION).count() == 1
        assert WebhookEvent.objects.filter(type="page.review_lapsed", page_id=page_id).count() == 1


def test_the_scheduled_report_lists_review_lapses_at_their_instant(seed, admin_client):
    """Editors see a lapse beside the go-lives and expiries, at the instant the scheduler
    applies it; one applied, or further off than the report's horizon, is not listed."""
    from publishing.scheduler.rows import LAPSE_REPORT_DAYS, site_time

    post, screener = seed["post"], ScreenerPage.objects.get()
    soon = timezone.localdate() + dt.timedelta(days=10)
    BlogPostPage.objects.filter(pk=post.pk).update(next_review_due=soon)
    far = timezone.localdate() + dt.timedelta(days=LAPSE_REPORT_DAYS + 5)
    ScreenerPage.objects.filter(pk=screener.pk).update(next_review_due=far)
    report = admin_client.get("/admin/reports/scheduled/").content.decode()
    rows = re.findall(r'<tr class="scheduled-row[^"]*">(.*?)</tr>', report, re.S)
    lapses = [row for row in rows if "Review lapses" in row]
    assert len(lapses) == 1, lapses
    assert post.title in lapses[0] and f"/admin/pages/{post.pk}/edit/" in lapses[0]
    assert site_time(lapse.lapse_at(soon)) in lapses[0] and "Pending" in lapses[0]

    BlogPostPage.objects.filter(pk=post.pk).update(review_lapsed_on=soon)  # applied
    report = admin_client.get("/admin/reports/scheduled/").content.decode()
    assert "Review lapses" not in report
