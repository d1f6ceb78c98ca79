"""The rows of the scheduled-items report and the dashboard: what goes live, expires or
has its clinical review lapse, and when.

Kept out of ``views`` so the dashboard panel (and anything else) can list them
without importing a view module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page, Revision

from cms.panels import schedule_time
from publishing.governance import lapse as review_lapse
from publishing.scheduler.engine import scheduled_models

#: Review lapses this many days ahead are listed (the "Reviews due" report has them all).
LAPSE_REPORT_DAYS = 30


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
    #: A clinical review's lapse (the calendar shows those as review due dates).
    lapse: bool = False

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


def lapse_rows(now: dt.datetime) -> list[ScheduledRow]:
    """Clinical reviews the scheduler will lapse within LAPSE_REPORT_DAYS (or should have),
    at the instant it will, from the rule it uses (``governance.lapse.due_lapses``)."""
    due = review_lapse.due_lapses(now + dt.timedelta(days=LAPSE_REPORT_DAYS))
    pages = {
        pk: (title, content_type_id)
        for pk, title, content_type_id in Page.objects.filter(
            pk__in=[pk for _label, pk, _when in due]
        ).values_list("pk", "title", "content_type_id")
    }
    return [
        ScheduledRow(
            str(_("Review lapses")), pages[pk][0], "", when, pages[pk][1], str(pk), lapse=True
        )
        for _label, pk, when in due
        if pk in pages
    ]


def scheduled_rows(now: dt.datetime) -> list[ScheduledRow]:
    """Pending go-lives (scheduled revisions), expiries (live objects) and review lapses,
    soonest first."""
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
    rows.extend(lapse_rows(now))
    for row in rows:
        row.overdue = row.when < now and not row.not_scheduled
        model = ContentType.objects.get_for_id(row.content_type_id).model_class()
        row.type_name = str(model._meta.verbose_name).capitalize() if model else "?"
    rows.sort(key=lambda row: row.when)
    return rows
