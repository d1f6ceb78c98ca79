"""The rule: a revision of gated content goes live only with an approved, unlapsed
Clinical review of that exact revision. Registered with ``cms.publish_gate`` at ready()."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page, Revision, TaskState, Workflow

from publishing.governance.policy import lapse_at, next_review, policy_for
from publishing.models.governance import CLINICAL_REVIEW_WORKFLOW, ClinicalReviewTask


def approval_of(revision: Revision) -> TaskState | None:
    """The latest approved Clinical review task state of exactly this revision."""
    if revision is None or revision.pk is None:
        return None
    return (
        TaskState.objects.filter(
            revision_id=revision.pk,
            status=TaskState.STATUS_APPROVED,
            task_id__in=ClinicalReviewTask.objects.values("pk"),
        )
        .order_by("-finished_at", "-pk")
        .first()
    )


def review_due_of(revision: Revision, approval: TaskState, page) -> dt.date:
    """When the approval lapses: the "next review due" it recorded on the revision."""
    recorded = revision.content.get("next_review_due") if revision.content else None
    due = parse_date(recorded) if isinstance(recorded, str) else None
    if due is None:
        approved_on = timezone.localdate(approval.finished_at or approval.started_at)
        due = next_review(approved_on, policy_for(page))
    return due


def refusal(revision: Revision, obj, now: dt.datetime | None = None) -> str | None:
    """Why ``revision`` of ``obj`` must not go live at ``now``, or None."""
    if not isinstance(obj, Page):
        return None
    policy = policy_for(obj)
    if policy is None or not policy.requires_review:
        return None
    approval = approval_of(revision)
    if approval is None:
        return str(
            _(
                "“%(title)s” needs an approved clinical review of this exact version before "
                "it can be published. Submit it for clinical review."
            )
        ) % {"title": obj.title}
    due = review_due_of(revision, approval, obj)
    if lapse_at(due) <= (now or timezone.now()):
        return str(
            _(
                "The clinical review of this version of “%(title)s” lapsed on %(due)s; it "
                "needs a new clinical review before it can go live."
            )
        ) % {"title": obj.title, "due": due.isoformat()}
    return None


def gate(revision: Revision, obj) -> str | None:
    """``cms.publish_gate`` callback: the rule at this instant."""
    return refusal(revision, obj)


def clinical_workflow(page) -> Workflow | None:
    """``cms.publish_gate`` workflow chooser: gated page types use the Clinical review."""
    policy = policy_for(page)
    if policy is None or not policy.requires_review:
        return None
    return Workflow.objects.filter(name=CLINICAL_REVIEW_WORKFLOW, active=True).first()
