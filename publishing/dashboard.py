"""Dashboard panels: what goes live next, and what failed to reach partners."""

from django.urls import reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.ui.components import Component

from publishing.scheduler.views import scheduled_rows, site_zone

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


class FailedDeliveriesPanel(Component):
    """Recent webhook deliveries that failed (retrying) or died, newest first."""

    name = "failed_deliveries"
    order = 150
    template_name = "publishing/admin/failed_deliveries_panel.html"

    def get_context_data(self, parent_context=None) -> dict:
        from publishing.models import Delivery

        failing = [Delivery.State.FAILED, Delivery.State.DEAD]
        deliveries = (
            Delivery.objects.filter(state__in=failing)
            .select_related("event", "partner")
            .order_by("-created_at", "-pk")[:UPCOMING_ROWS]
        )
        return {
            "deliveries": deliveries,
            "zone": str(site_zone()),
            "log_url": reverse("webhook_deliveries:index"),
        }


@hooks.register("construct_homepage_panels")
def add_publishing_panels(request, panels) -> None:
    panels.append(UpcomingScheduledPanel())
    if request.user.has_perm("publishing.view_delivery"):
        panels.append(FailedDeliveriesPanel())
