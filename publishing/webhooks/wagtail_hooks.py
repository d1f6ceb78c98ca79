"""Registers the webhook admin (imported from ``publishing/wagtail_hooks.py``)."""

from wagtail import hooks

from publishing.webhooks.admin import WebhooksGroup


@hooks.register("register_admin_viewset")
def register_webhooks_viewsets() -> WebhooksGroup:
    return WebhooksGroup()
