"""Wagtail's workflow finish action (``WAGTAIL_FINISH_WORKFLOW_ACTION``).

Wagtail's default publishes the *latest* revision when a workflow finishes, which may be
an edit made after the reviewer looked. For a Clinical review the approved revision is
the one to publish (or schedule); later edits stay drafts that need their own approval.

Wagtail imports this module while it defines ``WorkflowState`` (the setting is read in
the class body), so models are imported inside the function, when apps are ready; this
module imports nothing of ours at load time, so there is no cycle to hide.
"""

from __future__ import annotations

from typing import Any


def publish_approved_revision(workflow_state: Any, user=None) -> None:
    from wagtail.models import TaskState
    from wagtail.workflows import publish_workflow_state

    from publishing.models.governance import ClinicalReviewTask

    task_state = workflow_state.current_task_state
    if (
        task_state is not None
        and task_state.status == TaskState.STATUS_APPROVED
        and ClinicalReviewTask.objects.filter(pk=task_state.task_id).exists()
    ):
        # The reviewer's approval is the authority here (Wagtail checked they may approve);
        # the publish gate still checks the approval itself.
        task_state.revision.publish(user=user, skip_permission_checks=True)
        return
    publish_workflow_state(workflow_state, user=user)
