"""Admin hooks of the scheduler: the "Scheduled" report, the editorial calendar and
releases. Imported from wagtail_hooks.py."""

from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from publishing.scheduler import admin_views, releases
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
        path("calendar/", admin_views.CalendarView.as_view(), name="publishing_calendar"),
        path(
            "calendar/subscription/",
            admin_views.CalendarFeedTokenView.as_view(),
            name="publishing_calendar_feed_token",
        ),
        path("releases/", admin_views.ReleaseIndexView.as_view(), name="publishing_releases"),
        path(
            "releases/add/", admin_views.ReleaseCreateView.as_view(), name="publishing_release_add"
        ),
        path(
            "releases/<int:pk>/",
            admin_views.ReleaseDetailView.as_view(),
            name="publishing_release_detail",
        ),
        path(
            "releases/<int:pk>/preview/",
            admin_views.release_preview,
            name="publishing_release_preview",
        ),
        path(
            "releases/<int:pk>/undo/",
            admin_views.ReleaseUndoView.as_view(),
            name="publishing_release_undo",
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


@hooks.register("register_admin_menu_item")
def register_calendar_menu_item() -> MenuItem:
    return MenuItem(
        _("Calendar"),
        reverse("publishing_calendar"),
        name="calendar",
        icon_name="calendar",
        order=250,
    )


@hooks.register("register_admin_menu_item")
def register_releases_menu_item() -> MenuItem:
    return MenuItem(
        _("Releases"),
        reverse("publishing_releases"),
        name="releases",
        icon_name="calendar-check",
        order=260,
    )


@hooks.register("register_log_actions")
def register_release_log_actions(actions) -> None:
    actions.register_action(releases.SCHEDULE_ACTION, _("Schedule release"), _("Release scheduled"))
    actions.register_action(releases.UNDO_ACTION, _("Undo release"), _("Release undone"))


@hooks.register("insert_editor_js")
def editor_error_summary_js() -> str:
    """Every field error of the editor listed at the top, naming its tab or dialog."""
    return format_html(
        '<link rel="stylesheet" href="{}"><script src="{}" data-heading="{}" defer></script>',
        static("css/schedule-zone.css"),
        static("js/error-summary.js"),
        _("Not saved. Please correct:"),
    )
