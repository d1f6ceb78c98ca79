"""The "Clinical reviewers" group, its "Clinical review" task and workflow, idempotently.

The data migration creates them on ``migrate``; the seed loader asks again (through
``cms.signals.seed_content_loading``), so a database whose tables were emptied since
(a flushed test database, a restored dump without them) gets them back. Once they exist
an administrator's changes (renames, more groups, more tasks) are left alone.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from wagtail.models import Workflow, WorkflowTask

from publishing.models.governance import (
    CLINICAL_REVIEW_TASK,
    CLINICAL_REVIEW_WORKFLOW,
    CLINICAL_REVIEWERS_GROUP,
    ClinicalReviewTask,
)


def ensure_clinical_review() -> int:
    """Create what is missing; return how many objects were created."""
    created = 0
    group, new = Group.objects.get_or_create(name=CLINICAL_REVIEWERS_GROUP)
    if new:
        created += 1
        # Admin access only: the task's group may open the editor and approve (Wagtail's
        # ``Task.user_can_access_editor``), and the approval publishes; no publish rights.
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="wagtailadmin", codename="access_admin"
            )
        )
    task = ClinicalReviewTask.objects.filter(name=CLINICAL_REVIEW_TASK).first()
    if task is None:
        task = ClinicalReviewTask.objects.create(name=CLINICAL_REVIEW_TASK, active=True)
        task.groups.add(group)
        created += 1
    workflow, new = Workflow.objects.get_or_create(
        name=CLINICAL_REVIEW_WORKFLOW, defaults={"active": True}
    )
    if new:
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
        created += 1
    return created
