"""Admin hooks of clinical governance. Imported from ``publishing/wagtail_hooks.py``."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.models import Page, Revision, TaskState

from cms import publish_gate
from publishing.governance.actions import GatedPublishPageRevisionAction
from publishing.governance.lapse import LOG_ACTION
from publishing.models import ScheduleIssue
from publishing.models.governance import ClinicalReviewTask

PANEL_ROWS = 8


@hooks.register("register_actions")
def register_gated_publish(registry) -> None:
    """API v3 (and anything asking Wagtail's action registry) publishes through the gate."""
    registry.register(Page, GatedPublishPageRevisionAction)


@hooks.register("before_publish_page")
def refuse_unapproved_publish(request, page):
    """The admin's "Publish" and "Schedule to publish": refuse with a message, not a 403.

    The draft the editor just saved stays; only the publish is refused.
    """
    reason = publish_gate.refusal(page.get_latest_revision(), page.specific)
    if reason:
        messages.error(request, reason)
        return redirect("wagtailadmin_pages:edit", page.pk)
    return None


class ClinicalReviewPanel(Component):
    """Dashboard: reviews waiting for a clinician, and go-lives held for want of one."""

    name = "clinical_review"
    order = 120
    template_name = "publishing/admin/clinical_review_panel.html"

    def get_context_data(self, parent_context=None) -> dict:
        waiting = (
            TaskState.objects.filter(
                status=TaskState.STATUS_IN_PROGRESS,
                task_id__in=ClinicalReviewTask.objects.values("pk"),
            )
            .select_related("workflow_state", "revision")
            .order_by("started_at")[:PANEL_ROWS]
        )
        # Held, not dropped: the issue is open and the revision is still scheduled.
        held = ScheduleIssue.objects.filter(
            resolved=False,
            action="publish",
            revision_id__in=Revision.objects.filter(approved_go_live_at__isnull=False).values("pk"),
        ).order_by("scheduled_at")[:PANEL_ROWS]
        return {
            "waiting": [
                {"title": state.revision.object_str, "page_id": state.workflow_state.object_id}
                for state in waiting
            ],
            "held": held,
            "report_url": reverse("publishing_scheduled_report"),
        }


@hooks.register("construct_homepage_panels")
def add_clinical_review_panel(request, panels) -> None:
    panels.append(ClinicalReviewPanel())


@hooks.register("register_log_actions")
def register_review_lapsed_log_action(actions) -> None:
    actions.register_action(LOG_ACTION, _("Clinical review lapsed"), _("Clinical review lapsed"))
