"""Dashboard panels: what goes live next, and what failed to reach partners."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.ui.components import Component

from publishing.scheduler.rows import scheduled_rows, site_zone

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


class CdnPurgePanel(Component):
    """Purges the CDN has not confirmed: partners' notifications wait for them."""

    name = "cdn_purges"
    order = 90
    template_name = "publishing/admin/cdn_purge_panel.html"

    def __init__(self, purges: list) -> None:
        self.purges = purges

    def get_context_data(self, parent_context=None) -> dict:
        return {
            "purges": self.purges,
            "zone": str(site_zone()),
            "max_wait": settings.FRONTEND_CACHE_MAX_WAIT_SECONDS,
        }


def purge_problems() -> list:
    """Purges retrying now, or given up on in the last day."""
    from publishing.models import CdnPurge

    since = timezone.now() - timedelta(days=1)
    return list(
        CdnPurge.objects.filter(
            Q(state=CdnPurge.State.RETRYING)
            | Q(state=CdnPurge.State.GAVE_UP, finished_at__gte=since)
        )[:UPCOMING_ROWS]
    )


@hooks.register("construct_homepage_panels")
def add_publishing_panels(request, panels) -> None:
    if problems := purge_problems():
        panels.append(CdnPurgePanel(problems))
    panels.append(UpcomingScheduledPanel())
    if request.user.has_perm("publishing.view_delivery"):
        panels.append(FailedDeliveriesPanel())
