"""The admin "Scheduled" report: what goes live or expires, and when, in the site's zone.

Read straight from Wagtail's own schedule fields (there is no other schedule), plus the
scheduler's recorded problems, so an editor sees a skipped or failed item next to the rest.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.views.reports import ReportView

from publishing.models import ScheduleIssue
from publishing.scheduler.rows import (  # noqa: F401 - importable from here too
    ScheduledRow,
    draft_expiry_rows,
    scheduled_rows,
    site_time,
    site_zone,
)


class ScheduledReportView(ReportView):
    """Wagtail report listing pending scheduled publishes and expiries of pages and snippets."""

    page_title = _("Scheduled")
    header_icon = "time"
    results_template_name = "publishing/scheduled_report_results.html"
    index_url_name = "publishing_scheduled_report"
    index_results_url_name = "publishing_scheduled_report_results"
    paginate_by = 100

    def get_queryset(self) -> list[ScheduledRow]:
        self.now = timezone.now()
        return scheduled_rows(self.now)

    def get_filtered_queryset(self) -> list[ScheduledRow]:
        return self.get_queryset()

    def decorate_paginated_queryset(self, object_list):
        finder = AdminURLFinder(self.request.user)
        for row in object_list:
            model = ContentType.objects.get_for_id(row.content_type_id).model_class()
            obj = model._default_manager.filter(pk=row.object_id).first() if model else None
            row.edit_url = finder.get_edit_url(obj) if obj is not None else None
        return object_list

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["site_time_zone"] = settings.TIME_ZONE
        context["now_local"] = site_time(getattr(self, "now", timezone.now()))
        issues = list(ScheduleIssue.objects.filter(resolved=False).select_related("content_type"))
        for issue in issues:
            issue.when_local = site_time(issue.scheduled_at)
            issue.last_seen_local = site_time(issue.last_seen_at)
        context["issues"] = issues
        return context
