"""API representations of related objects that ``api_fields`` cannot express alone.

Wagtail's v2 API takes DRF serializers for these, and v3 reuses them through its
compatibility shim, so one definition serves both.
"""

from rest_framework import serializers
from wagtail.images.api.fields import ImageRenditionField

from cms import visibility
from cms.content import clean_rich_text, safe_url


class PublicImageRenditionField(ImageRenditionField):
    """A rendition, or ``null`` when the image sits in a restricted collection."""

    def to_representation(self, image):
        if not visibility.is_public_media(image):
            return None
        return super().to_representation(image)


class SafeURLField(serializers.CharField):
    """A stored URL, empty when following it would run script (``javascript:``)."""

    def to_representation(self, value) -> str:
        return safe_url(value)


class CleanRichTextField(serializers.CharField):
    """Rich text read by a plain serializer (outside ``APIRichText``), cleaned the same way."""

    def __init__(self, features: tuple[str, ...] | None = None, **kwargs) -> None:
        self.features = features
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return clean_rich_text(str(value or ""), self.features)


class AuthorSerializer(serializers.Serializer):
    """An author as partners need to credit them: never internal fields."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    credentials = serializers.CharField()
    bio = CleanRichTextField(features=("bold", "italic", "link"))
    photo = PublicImageRenditionField("fill-240x240", allow_null=True)


class DocumentLinkSerializer(serializers.Serializer):
    """A document as a public download link; ``null`` when its collection is restricted."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()

    def to_representation(self, instance):
        if not visibility.is_public_media(instance):
            return None
        return super().to_representation(instance)


class TagNamesField(serializers.Field):
    """Tag names, sorted, read from prefetched tags (Wagtail's own field re-queries)."""

    def get_attribute(self, instance):
        return instance

    def to_representation(self, page) -> list[str]:
        return sorted(tag.name for tag in page.tags.all())


class PublicPageLinkField(serializers.Field):
    """A link to another page (a page chooser field), or ``null`` when the public may not
    see that page: a draft or private page's title must not ride along on a public one."""

    def to_representation(self, page) -> dict | None:
        if not visibility.is_public(page):
            return None
        return {
            "id": page.pk,
            "title": page.title,
            "meta": {"type": page.specific_class._meta.label, "html_url": page.full_url},
        }
