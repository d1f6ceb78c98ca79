from django.apps import AppConfig


class PublishingConfig(AppConfig):
    """Everything that happens when content changes, one sub-package per concern.

    A change enters through ``publishing.pipeline.signal_handlers`` (one handler per
    transaction); ``scheduler``, ``syndication`` and ``webhooks`` do the work it names.

    Each sub-package connects its own signal handlers here, explicitly, the way Wagtail's
    contrib apps do (``wagtail.contrib.frontend_cache.apps``).
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "publishing"
    verbose_name = "Publishing"

    def ready(self) -> None:
        from publishing import health  # noqa: F401 - registers /healthz checks
        from publishing.governance import signal_handlers as governance_handlers
        from publishing.pipeline import signal_handlers as pipeline_handlers
        from publishing.scheduler import signal_handlers as scheduler_handlers

        # Every content change: caches, CDN purge, then WebSub and webhooks, after commit.
        pipeline_handlers.register_signal_handlers()
        # Clinical review: approvals fill review dates; the publish gate is set here.
        governance_handlers.register_signal_handlers()
        # Refuses a schedule that could never be honoured (a guard, not a change).
        scheduler_handlers.register_signal_handlers()
