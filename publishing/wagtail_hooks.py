"""Admin customisation of the publishing app; each sub-package keeps its hooks in its own module."""

from publishing import dashboard  # noqa: F401 - dashboard panels
from publishing.governance import wagtail_hooks as governance_hooks  # noqa: F401 - clinical review
from publishing.scheduler import wagtail_hooks as scheduler_hooks  # noqa: F401 - "Scheduled" report
from publishing.webhooks import wagtail_hooks as webhook_hooks  # noqa: F401 - partners, log
