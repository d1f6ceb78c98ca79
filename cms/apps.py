from django.apps import AppConfig


class CmsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cms"
    verbose_name = "Site content"

    def ready(self) -> None:
        from cms.content import install_api_rich_text_cleaning

        from . import response_cache_signals

        install_api_rich_text_cleaning()
        response_cache_signals.connect()
