"""Admin panels that make scheduling unmistakable: every schedule field names its zone."""

import datetime as dt
import zoneinfo

from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from wagtail.admin.panels import FieldPanel, PublishingPanel

#: One way to write a schedule time across the admin (panel, report, warnings): date,
#: 24-hour time to the second (schedules are exact to the second), and the zone's
#: abbreviation for that date (PDT in June, PST in January).
SCHEDULE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %Z"


def schedule_time(value: dt.datetime | None, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """A schedule time as editors read it, in ``zone`` (default: the admin's current one)."""
    if value is None:
        return ""
    return timezone.localtime(value, zone).strftime(SCHEDULE_TIME_FORMAT)


def schedule_zone_help() -> str:
    """The zone the editor's times are read in, as the admin renders them right now.

    Evaluated at render time: the zone is the editor's own (Wagtail lets each user pick
    one) or the site's, and the abbreviation changes with daylight saving.
    """
    now = timezone.localtime()
    offset = now.strftime("%z")
    return _("Times are in %(zone)s (%(abbr)s, UTC%(offset)s).") % {
        "zone": timezone.get_current_timezone_name(),
        "abbr": now.tzname(),
        "offset": f"{offset[:3]}:{offset[3:]}",
    }


zone_help_text = lazy(schedule_zone_help, str)()


class ZonedPublishingPanel(PublishingPanel):
    """Wagtail's go-live/expiry panel, with the time zone named under each field."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        for child in self.children:
            if isinstance(child, FieldPanel):
                child.help_text = zone_help_text
