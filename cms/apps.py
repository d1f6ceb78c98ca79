from django.apps import AppConfig


class CmsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cms"
    verbose_name = "Site content"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from cms import visibility
        from cms.api_public import install_v3_visibility
        from cms.content import install_api_rich_text_cleaning

        from . import response_cache_signals

        install_api_rich_text_cleaning()
        install_v3_visibility()
        response_cache_signals.connect()
        # Any save may change what the public sees: a request's looked-up rule is dropped.
        post_save.connect(visibility.forget, dispatch_uid="cms.visibility.saved")
        post_delete.connect(visibility.forget, dispatch_uid="cms.visibility.deleted")
