"""Admin panels that make scheduling unmistakable: every schedule field names its zone.

The zone label is worked out for the date in the field (PDT for a June date even in
January), both here for the saved value and in the browser (static/js/schedule-zone.js)
for a newly picked one; a time that a daylight-saving change skips or repeats is refused
with the valid choices named, rather than Django's "couldn't be interpreted".
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.models import register_form_field_override
from wagtail.admin.panels import FieldPanel, PublishingPanel
from wagtail.admin.widgets import AdminDateTimeInput

#: One way to write a schedule time across the admin (panel, report, warnings): date,
#: 24-hour time to the second (schedules are exact to the second), and the zone's
#: abbreviation for that date (PDT in June, PST in January).
SCHEDULE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %Z"
WALL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def schedule_time(value: dt.datetime | None, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """A schedule time as editors read it, in ``zone`` (default: the admin's current one)."""
    if value is None:
        return ""
    return timezone.localtime(value, zone).strftime(SCHEDULE_TIME_FORMAT)


def zone_label(value: dt.datetime | None = None) -> str:
    """ "Times are in <zone> (<abbr>, UTC±hh:mm)." for the date of ``value`` (default now).

    The abbreviation and offset are those in force on that date, not today's; they are
    marked so that the panel's script can redo them for a newly picked date.
    """
    when = timezone.localtime(value) if value else timezone.localtime()
    offset = when.strftime("%z")
    sentence = conditional_escape(_("Times are in %(zone)s (%(abbr)s, UTC%(offset)s)."))
    return mark_safe(  # noqa: S308 - the sentence is escaped, the parts by format_html
        sentence
        % {
            "zone": conditional_escape(timezone.get_current_timezone_name()),
            "abbr": format_html("<span data-zone-abbr>{}</span>", when.tzname()),
            "offset": format_html("<span data-zone-offset>{}:{}</span>", offset[:3], offset[3:]),
        }
    )


def _exists(wall: dt.datetime, zone: dt.tzinfo) -> bool:
    """Whether a wall-clock time happens at all in ``zone`` (not skipped by a DST change)."""
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) == wall


def _nearest_existing(wall: dt.datetime, zone: dt.tzinfo, step: dt.timedelta) -> dt.datetime:
    """The first wall time from ``wall`` in the direction of ``step`` that exists."""
    candidate = wall
    for _i in range(3 * 3600):  # no zone skips more than a few hours
        candidate += step
        if _exists(candidate, zone):
            return candidate
    return candidate


def dst_error(wall: dt.datetime, zone: dt.tzinfo) -> forms.ValidationError | None:
    """A form error naming the valid choices when ``wall`` is skipped or repeated in ``zone``."""
    name = getattr(zone, "key", str(zone))
    if not _exists(wall, zone):
        before = _nearest_existing(wall, zone, -dt.timedelta(seconds=1)).replace(tzinfo=zone)
        after = _nearest_existing(wall, zone, dt.timedelta(seconds=1)).replace(tzinfo=zone)
        return forms.ValidationError(
            _(
                "%(wall)s does not exist in %(zone)s (clocks go forward); choose "
                "%(before)s or %(after)s."
            ),
            code="nonexistent_time",
            params={
                "wall": wall.strftime(WALL_TIME_FORMAT),
                "zone": name,
                "before": before.strftime(SCHEDULE_TIME_FORMAT),
                "after": after.strftime(SCHEDULE_TIME_FORMAT),
            },
        )
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        return forms.ValidationError(
            _(
                "%(wall)s is ambiguous in %(zone)s: it happens twice (clocks go back); add "
                "the zone to say which: “%(first)s” (the first) or “%(second)s” (the second)."
            ),
            code="ambiguous_time",
            params={
                "wall": wall.strftime(WALL_TIME_FORMAT),
                "zone": name,
                "first": first.strftime(SCHEDULE_TIME_FORMAT),
                "second": second.strftime(SCHEDULE_TIME_FORMAT),
            },
        )
    return None


class ZonedDateTimeField(forms.DateTimeField):
    """A date-time read in the admin's zone that explains daylight-saving problems.

    "2026-11-01 01:30:00 PST" (with the abbreviation) picks one of a repeated hour.
    """

    def to_python(self, value):
        if isinstance(value, str):
            text = value.strip()
            wall_text, _sep, abbr = text.rpartition(" ")
            zone = timezone.get_current_timezone()
            if abbr.isalpha() and ":" in wall_text:
                with timezone.override(dt.UTC):
                    naive = super().to_python(wall_text).replace(tzinfo=None)
                for fold in (0, 1):
                    candidate = naive.replace(tzinfo=zone, fold=fold)
                    if candidate.tzname() == abbr.upper() and _exists(naive, zone):
                        return candidate
                raise forms.ValidationError(
                    _("“%(abbr)s” is not the zone of %(zone)s on that date."),
                    code="wrong_zone",
                    params={"abbr": abbr, "zone": getattr(zone, "key", str(zone))},
                )
            try:
                return super().to_python(value)
            except forms.ValidationError as exc:
                if getattr(exc, "code", None) != "ambiguous_timezone":
                    raise
                with timezone.override(dt.UTC):
                    naive = super().to_python(value).replace(tzinfo=None)
                error = dst_error(naive, zone)
                raise (error or exc) from None
        return super().to_python(value)


# Every date-time in the admin (the schedule fields first) gets the explaining field.
register_form_field_override(
    models.DateTimeField,
    override={"form_class": ZonedDateTimeField, "widget": AdminDateTimeInput},
)


class ZonedFieldPanel(FieldPanel):
    """A schedule field whose help text names the zone's offset for the date in it."""

    class BoundPanel(FieldPanel.BoundPanel):
        class Media:
            js = ["js/schedule-zone.js"]
            css = {"all": ["css/schedule-zone.css"]}

        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            if self.bound_field is None:
                return
            value = self.bound_field.value()
            if isinstance(value, str):
                try:
                    value = self.bound_field.field.to_python(value)
                except forms.ValidationError:
                    value = None
            when = value if isinstance(value, dt.datetime) else None
            if when is not None and timezone.is_naive(when):
                # The form shows a saved time as wall-clock time in the current zone.
                when = when.replace(tzinfo=timezone.get_current_timezone())
            self.help_text = format_html(
                '<span data-schedule-zone="{}" data-schedule-zone-for="{}">{}</span>',
                timezone.get_current_timezone_name(),
                self.bound_field.id_for_label,
                zone_label(when),
            )


class ZonedPublishingPanel(PublishingPanel):
    """Wagtail's go-live/expiry panel, with the time zone named under each field."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.children = [
            ZonedFieldPanel(child.field_name, widget=child.widget)
            if type(child) is FieldPanel
            else child
            for child in self.children
        ]
