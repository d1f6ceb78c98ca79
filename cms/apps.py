from django.apps import AppConfig


class CmsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cms"
    verbose_name = "Site content"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save
        from wagtail.api.v3.schemas import read_generator

        from cms import visibility
        from cms.api_public import install_v3_visibility, public_rich_text_schema
        from cms.rich_text import RichTextField

        # v3 reads our rich text fields through the public-media rule (Wagtail's own
        # registration point; its lookup follows the field's class hierarchy).
        read_generator.register_field_schema(RichTextField, public_rich_text_schema)
        install_v3_visibility()
        # Any save may change what the public sees: a request's looked-up rule is dropped.
        post_save.connect(visibility.forget, dispatch_uid="cms.visibility.saved")
        post_delete.connect(visibility.forget, dispatch_uid="cms.visibility.deleted")
