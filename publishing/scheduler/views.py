"""The admin "Scheduled" report: what goes live or expires, and when, in the site's zone.

Read straight from Wagtail's own schedule fields (there is no other schedule), plus the
scheduler's recorded problems, so an editor sees a skipped or failed item next to the rest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.views.reports import ReportView
from wagtail.models import Revision

from cms.panels import schedule_time
from publishing.models import ScheduleIssue
from publishing.scheduler.engine import scheduled_models


@dataclasses.dataclass
class ScheduledRow:
    action: str
    title: str
    type_name: str
    when: dt.datetime
    content_type_id: int
    object_id: str
    overdue: bool = False
    edit_url: str | None = None
    #: Why the row will not happen as shown ("" when it is scheduled).
    not_scheduled: str = ""
    #: The scheduled revision of a go-live (None for expiries).
    revision_id: int | None = None

    @property
    def when_local(self) -> str:
        return site_time(self.when)


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def site_time(value: dt.datetime | None) -> str:
    """A time as editors read it: the site's zone, in the admin's one schedule format."""
    return schedule_time(value, site_zone())


def draft_expiry_rows() -> list[ScheduledRow]:
    """Expiries saved on an unpublished draft of a live object: shown, marked as not
    scheduled, because the live object keeps the expiry it had until the draft is
    published (or scheduled)."""
    rows: list[ScheduledRow] = []
    reason = str(
        _(
            "Not scheduled: the expiry is on an unpublished draft — publish or schedule "
            "the draft for it to apply."
        )
    )
    for model in scheduled_models():
        drafts = model._default_manager.filter(
            live=True, has_unpublished_changes=True, latest_revision__isnull=False
        ).select_related("latest_revision")
        for obj in drafts:
            revision = obj.latest_revision
            if revision.approved_go_live_at is not None:
                continue  # the draft is scheduled: its expiry comes with it
            when = parse_datetime(revision.content.get("expire_at") or "")
            if when is None or when == obj.expire_at:
                continue
            rows.append(
                ScheduledRow(
                    str(_("Expire")),
                    revision.object_str or str(obj),
                    "",
                    when,
                    revision.base_content_type_id,
                    str(obj.pk),
                    not_scheduled=reason,
                )
            )
    return rows


def scheduled_rows(now: dt.datetime) -> list[ScheduledRow]:
    """Pending go-lives (scheduled revisions) and expiries (live objects), soonest first."""
    rows: list[ScheduledRow] = []
    revisions = Revision.objects.filter(approved_go_live_at__isnull=False).values_list(
        "base_content_type_id", "object_id", "object_str", "approved_go_live_at", "pk"
    )
    for content_type_id, object_id, title, when, revision_id in revisions:
        rows.append(
            ScheduledRow(
                str(_("Go live")),
                title,
                "",
                when,
                content_type_id,
                str(object_id),
                revision_id=revision_id,
            )
        )
    for model in scheduled_models():
        content_type_id = ContentType.objects.get_for_model(model).pk
        for pk, title, when in model._default_manager.filter(
            live=True, expire_at__isnull=False
        ).values_list("pk", "title" if hasattr(model, "title") else "pk", "expire_at"):
            rows.append(
                ScheduledRow(str(_("Expire")), str(title), "", when, content_type_id, str(pk))
            )
    rows.extend(draft_expiry_rows())
    for row in rows:
        row.overdue = row.when < now and not row.not_scheduled
        model = ContentType.objects.get_for_id(row.content_type_id).model_class()
        row.type_name = str(model._meta.verbose_name).capitalize() if model else "?"
    rows.sort(key=lambda row: row.when)
    return rows


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
