"""Dashboard panels of the publishing app: what goes live or expires next."""

from django.urls import reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.ui.components import Component

from publishing.scheduler_views import scheduled_rows, site_zone

UPCOMING_ROWS = 8


class UpcomingScheduledPanel(Component):
    name = "upcoming_scheduled"
    order = 140
    template_name = "publishing/admin/upcoming_scheduled_panel.html"

    def get_context_data(self, parent_context=None) -> dict:
        rows = scheduled_rows(timezone.now())[:UPCOMING_ROWS]
        return {
            "rows": rows,
            "zone": str(site_zone()),
            "report_url": reverse("publishing_scheduled_report"),
        }


@hooks.register("construct_homepage_panels")
def add_publishing_panels(request, panels) -> None:
    panels.append(UpcomingScheduledPanel())
