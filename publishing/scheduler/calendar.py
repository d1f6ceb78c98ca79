"""The editorial calendar: go-lives, expiries, review due dates and releases, one list.

Go-lives and expiries come from the "Scheduled" report's rows (:func:`scheduled_rows`),
so the report and the calendar cannot disagree. Review due dates are read from any model
with a ``next_review_due`` field (the clinical-review mixin), releases from their table.
Times are shown in the site's zone in the admin's one schedule format; the ICS feed
carries UTC instants, which calendar apps show in each reader's own zone.
"""

from __future__ import annotations

import calendar as pycalendar
import dataclasses
import datetime as dt
from collections.abc import Iterable

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from icalendar import Calendar, Event
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.models import Page, Revision

from publishing.models import Release
from publishing.scheduler.rows import scheduled_rows, site_time, site_zone

KINDS = {
    "go_live": _("Go live"),
    "expire": _("Expire"),
    "review": _("Review due"),
    "release": _("Release"),
}

#: How far back and ahead the ICS feed reaches (calendar apps poll it every few hours).
FEED_PAST = dt.timedelta(days=31)
FEED_AHEAD = dt.timedelta(days=366)


@dataclasses.dataclass
class CalendarEntry:
    kind: str
    title: str
    type_name: str
    #: An instant (go-live, expiry, release) or, for a review due date, a date.
    when: dt.datetime | dt.date
    uid: str
    edit_url: str | None = None
    author_id: int | None = None
    author_name: str = ""
    note: str = ""

    @property
    def kind_label(self) -> str:
        return str(KINDS[self.kind])

    @property
    def day(self) -> dt.date:
        if isinstance(self.when, dt.datetime):
            return timezone.localtime(self.when, site_zone()).date()
        return self.when

    @property
    def when_local(self) -> str:
        if isinstance(self.when, dt.datetime):
            return site_time(self.when)
        return self.when.isoformat()

    @property
    def time_local(self) -> str:
        """The time of day shown in a calendar cell (the day is the cell's)."""
        if isinstance(self.when, dt.datetime):
            return timezone.localtime(self.when, site_zone()).strftime("%H:%M %Z")
        return str(_("all day"))


def _user_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _edit_url(finder: AdminURLFinder, model: type[models.Model] | None, pk: str) -> str | None:
    obj = model._default_manager.filter(pk=pk).first() if model else None
    return finder.get_edit_url(obj) if obj is not None else None


def review_models() -> list[type[models.Model]]:
    """Every concrete model with a ``next_review_due`` column, whichever mixin gave it.

    A multi-table child shares its parent's column, so each column is read once.
    """
    found: dict[type[models.Model], None] = {}
    for model in apps.get_models():
        try:
            field = model._meta.get_field("next_review_due")
        except FieldDoesNotExist:
            continue
        found[field.model] = None
    return list(found)


def _schedule_entries(now: dt.datetime, finder: AdminURLFinder) -> list[CalendarEntry]:
    rows = scheduled_rows(now)
    scheduled = Revision.objects.filter(
        pk__in=[row.revision_id for row in rows if row.revision_id]
    ).select_related("user")
    revision_users = {revision.pk: revision.user for revision in scheduled}
    entries = []
    for row in rows:
        if row.lapse:
            continue  # listed as its review due date (_review_entries)
        model = ContentType.objects.get_for_id(row.content_type_id).model_class()
        if row.revision_id is not None:
            kind, user = "go_live", revision_users.get(row.revision_id)
        else:
            kind = "expire"
            obj = model._default_manager.filter(pk=row.object_id).first() if model else None
            latest = getattr(obj, "latest_revision", None)
            user = latest.user if latest is not None else None
        entries.append(
            CalendarEntry(
                kind=kind,
                title=row.title,
                type_name=row.type_name,
                when=row.when,
                uid=f"{kind}-{row.content_type_id}-{row.object_id}-{row.when.timestamp():.0f}",
                edit_url=_edit_url(finder, model, row.object_id),
                author_id=user.pk if user else None,
                author_name=_user_name(user),
                note=row.not_scheduled,
            )
        )
    return entries


def _review_entries(finder: AdminURLFinder) -> list[CalendarEntry]:
    entries = []
    for model in review_models():
        queryset = model._default_manager.filter(next_review_due__isnull=False)
        if issubclass(model, Page):
            queryset = queryset.filter(live=True).select_related("latest_revision__user")
        for obj in queryset:
            latest = getattr(obj, "latest_revision", None)
            user = latest.user if latest is not None else None
            entries.append(
                CalendarEntry(
                    kind="review",
                    title=str(obj),
                    type_name=str(model._meta.verbose_name).capitalize(),
                    when=obj.next_review_due,
                    uid=f"review-{model._meta.label_lower}-{obj.pk}-{obj.next_review_due}",
                    edit_url=finder.get_edit_url(obj),
                    author_id=user.pk if user else None,
                    author_name=_user_name(user),
                )
            )
    return entries


def _release_entries() -> list[CalendarEntry]:
    entries = []
    for release in Release.objects.filter(undone_at__isnull=True).select_related("created_by"):
        entries.append(
            CalendarEntry(
                kind="release",
                title=release.name,
                type_name=str(_("Release")),
                when=release.go_live_at,
                uid=f"release-{release.pk}",
                edit_url=reverse("publishing_release_detail", args=[release.pk]),
                author_id=release.created_by_id,
                author_name=_user_name(release.created_by),
            )
        )
    return entries


def calendar_entries(
    user, kinds: Iterable[str] | None = None, author_id: int | None = None
) -> list[CalendarEntry]:
    """Everything on the calendar that ``user`` can open, soonest first, filtered."""
    finder = AdminURLFinder(user)
    entries = (
        _schedule_entries(timezone.now(), finder) + _review_entries(finder) + _release_entries()
    )
    wanted = set(kinds or KINDS)
    entries = [
        entry
        for entry in entries
        if entry.kind in wanted
        and (author_id is None or entry.author_id == author_id)
        # Only what this user may open (releases are shown to every editor).
        and (entry.edit_url is not None or entry.kind == "release")
    ]
    entries.sort(key=lambda entry: (entry.day, entry.when_local))
    return entries


def authors() -> list:
    """Users who appear as authors on the calendar, for the filter."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .order_by("first_name", "last_name", "username")
    ) or list(get_user_model().objects.filter(is_active=True).order_by("username"))


# --- grids -----------------------------------------------------------------------------


@dataclasses.dataclass
class Day:
    date: dt.date
    in_range: bool
    entries: list[CalendarEntry]


def month_grid(year: int, month: int, entries: list[CalendarEntry]) -> list[list[Day]]:
    """Weeks (Monday first) covering the month, each day with its entries."""
    by_day: dict[dt.date, list[CalendarEntry]] = {}
    for entry in entries:
        by_day.setdefault(entry.day, []).append(entry)
    weeks = pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    return [[Day(day, day.month == month, by_day.get(day, [])) for day in week] for week in weeks]


def week_days(start: dt.date, entries: list[CalendarEntry]) -> list[Day]:
    """The seven days from the Monday of ``start``'s week."""
    monday = start - dt.timedelta(days=start.weekday())
    by_day: dict[dt.date, list[CalendarEntry]] = {}
    for entry in entries:
        by_day.setdefault(entry.day, []).append(entry)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    return [Day(day, True, by_day.get(day, [])) for day in days]


# --- ICS -------------------------------------------------------------------------------


def ics_feed(entries: list[CalendarEntry], base_url: str) -> bytes:
    """An iCalendar (RFC 5545) document of ``entries``: UTC instants, all-day reviews."""
    now = timezone.now()
    cal = Calendar()
    cal.add("prodid", "-//Cancer care CMS//Editorial calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", str(_("Editorial calendar")))
    for entry in entries:
        event = Event()
        event.add("uid", f"{entry.uid}@editorial-calendar")
        event.add("dtstamp", now)
        event.add("summary", f"{entry.kind_label}: {entry.title}")
        if isinstance(entry.when, dt.datetime):
            start = entry.when.astimezone(dt.UTC)
            event.add("dtstart", start)
            event.add("dtend", start + dt.timedelta(minutes=15))
        else:
            event.add("dtstart", entry.when)
            event.add("dtend", entry.when + dt.timedelta(days=1))
        description = [f"{entry.type_name}", f"{entry.when_local}"]
        if entry.author_name:
            description.append(str(_("By %(name)s")) % {"name": entry.author_name})
        if entry.note:
            description.append(entry.note)
        event.add("description", "\n".join(description))
        if entry.edit_url:
            event.add("url", base_url.rstrip("/") + entry.edit_url)
        cal.add_component(event)
    return cal.to_ical()


def in_feed_window(entry: CalendarEntry, now: dt.datetime) -> bool:
    """Whether the feed carries ``entry``: a month back to a year ahead."""
    when = entry.when
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time(), tzinfo=site_zone())
    return now - FEED_PAST <= when <= now + FEED_AHEAD
