"""Admin: the anonymous outcome counts (read-only, under Reports) and screeners awaiting
clinical sign-off (a dashboard panel)."""

from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from .models import ScreenerPage, ScreeningOutcomeCount


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Counts are facts, written only by readers' submissions: nobody adds, edits or deletes."""

    def user_has_permission(self, user, action: str) -> bool:
        return action == "view" and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions) -> bool:
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(ScreeningOutcomeCount, ReadOnlyPermissionPolicy(ScreeningOutcomeCount))


class ScreeningOutcomeCountViewSet(ModelViewSet):
    """A filterable, exportable list of counts per screener, outcome and day."""

    model = ScreeningOutcomeCount
    icon = "list-ol"
    menu_label = _("Screener outcomes")
    menu_order = 900
    menu_hook = "register_reports_menu_item"
    # Small counts are shown as "<5" (``count_display``): with few readers a day, an exact 1
    # could point at the one person a viewer knows used the screener that day.
    list_display = ["date", "screener", "outcome", "count_display"]
    list_filter = {"screener": ["exact"], "outcome": ["exact"], "date": ["gte", "lte"]}
    list_export = ["date", "screener", "get_outcome_display", "outcome", "count_display"]
    export_headings = {
        "get_outcome_display": _("Outcome"),
        "outcome": _("Outcome code"),
        "count_display": _("Count"),
    }
    export_filename = "screener-outcomes"
    ordering = ["-date", "screener", "outcome"]
    copy_view_enabled = False
    # Wagtail builds the edit views regardless; the policy above refuses them to everyone.
    form_fields = ["count"]
    inspect_view_enabled = False

    def get_permissions_to_register(self) -> QuerySet[Permission]:
        """Only "view" is grantable: it is the only thing anyone can do with a count."""
        content_type = ContentType.objects.get_for_model(self.model)
        return Permission.objects.filter(
            content_type=content_type, codename=get_permission_codename("view", self.model_opts)
        )


@hooks.register("register_admin_viewset")
def register_screening_outcome_counts() -> ScreeningOutcomeCountViewSet:
    return ScreeningOutcomeCountViewSet("screening_outcome_counts")


class AwaitingSignoffPanel(Component):
    """Screeners no named clinician has signed off yet: the seeded one starts here."""

    name = "screeners_awaiting_signoff"
    order = 145
    template_name = "screening/admin_awaiting_signoff_panel.html"

    def __init__(self, pages: list[ScreenerPage]) -> None:
        self.pages = pages

    def get_context_data(self, parent_context=None) -> dict:
        return {
            "rows": [
                {"page": page, "edit_url": reverse("wagtailadmin_pages:edit", args=[page.pk])}
                for page in self.pages
            ]
        }


@hooks.register("construct_homepage_panels")
def add_awaiting_signoff_panel(request, panels) -> None:
    pages = [
        page
        for page in ScreenerPage.objects.order_by("title")
        if page.needs_clinical_signoff() and page.permissions_for_user(request.user).can_edit()
    ]
    if pages:
        panels.append(AwaitingSignoffPanel(pages))
