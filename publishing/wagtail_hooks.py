"""Admin customisation of the publishing app; each area keeps its hooks in its own module."""

from publishing import (
    dashboard,  # noqa: F401 - dashboard panels
    scheduler_hooks,  # noqa: F401 - registers the "Scheduled" report
)
from publishing.webhooks import wagtail_hooks as webhook_hooks  # noqa: F401 - partners, log
