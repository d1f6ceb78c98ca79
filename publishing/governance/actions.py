"""The publish action API v3 uses (Wagtail's ``register_actions`` hook picks it).

Wagtail's own action with one more check: the publish gate, which a permission cannot
waive (superusers and ``skip_permission_checks`` included). Raised before the action
changes anything, as a ``PermissionDenied`` the API answers with 403 and a JSON message.
"""

from wagtail.actions.publish_page_revision import PublishPageRevisionAction

from cms import publish_gate


class GatedPublishPageRevisionAction(PublishPageRevisionAction):
    def check(self, skip_permission_checks: bool = False) -> None:
        super().check(skip_permission_checks=skip_permission_checks)
        publish_gate.check(self.revision, self.object)
