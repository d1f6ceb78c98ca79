from django.apps import AppConfig


class PublishingConfig(AppConfig):
    """Everything that happens when content changes, one sub-package per concern.

    Each sub-package connects its own signal handlers here, explicitly, the way Wagtail's
    contrib apps do (``wagtail.contrib.frontend_cache.apps``).
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "publishing"
    verbose_name = "Publishing"

    def ready(self) -> None:
        from publishing import health  # noqa: F401 - registers /healthz checks
        from publishing.governance import signal_handlers as governance_handlers
        from publishing.scheduler import signal_handlers as scheduler_handlers
        from publishing.syndication import signal_handlers as syndication_handlers
        from publishing.webhooks import signal_handlers as webhook_handlers

        governance_handlers.register_signal_handlers()
        scheduler_handlers.register_signal_handlers()
        syndication_handlers.register_signal_handlers()
        webhook_handlers.register_signal_handlers()
