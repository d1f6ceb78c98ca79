"""Admin hooks of the scheduler: the "Scheduled" report. Imported from wagtail_hooks.py."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from publishing.scheduler.views import ScheduledReportView


@hooks.register("register_admin_urls")
def register_scheduled_report_urls() -> list:
    return [
        path(
            "reports/scheduled/",
            ScheduledReportView.as_view(),
            name="publishing_scheduled_report",
        ),
        path(
            "reports/scheduled/results/",
            ScheduledReportView.as_view(results_only=True),
            name="publishing_scheduled_report_results",
        ),
    ]


@hooks.register("register_reports_menu_item")
def register_scheduled_report_menu_item() -> MenuItem:
    return MenuItem(
        _("Scheduled"),
        reverse("publishing_scheduled_report"),
        name="scheduled",
        icon_name="time",
        order=50,
    )
