from django.apps import AppConfig


class PublishingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "publishing"
    verbose_name = "Publishing"

    def ready(self) -> None:
        from publishing import scheduler_signals
        from publishing.webhooks import signal_handlers as webhook_signals

        from . import (
            feed_signals,  # noqa: F401 - feed cache invalidation and WebSub pings
            health,  # noqa: F401 - registers /healthz checks
        )

        scheduler_signals.connect()
        webhook_signals.connect()
