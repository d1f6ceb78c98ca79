"""The admin's one way to write a schedule time, for templates (see cms.panels)."""

import datetime as dt

from django import template

from cms.panels import schedule_time as format_schedule_time

register = template.Library()


@register.filter
def schedule_time(value: dt.datetime | None) -> str:
    """``2026-06-15 12:00:00 PDT``: date, 24-hour time, the zone's abbreviation then."""
    return format_schedule_time(value)
