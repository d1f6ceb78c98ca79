"""Admin customisation of the publishing app; each area keeps its hooks in its own module."""

from publishing.webhooks import wagtail_hooks as webhook_hooks  # noqa: F401 - partners, log
