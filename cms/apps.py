from django.apps import AppConfig


class CmsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cms"
    verbose_name = "Site content"

    def ready(self) -> None:
        from . import response_cache_signals

        response_cache_signals.connect()
