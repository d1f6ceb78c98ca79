"""API representations of related objects that ``api_fields`` cannot express alone.

Wagtail's v2 API takes DRF serializers for these, and v3 reuses them through its
compatibility shim, so one definition serves both.
"""

from rest_framework import serializers
from wagtail.images.api.fields import ImageRenditionField


class AuthorSerializer(serializers.Serializer):
    """An author as partners need to credit them: never internal fields."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    credentials = serializers.CharField()
    bio = serializers.CharField()
    photo = ImageRenditionField("fill-240x240", allow_null=True)


class DocumentLinkSerializer(serializers.Serializer):
    """A document as a public download link."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()


class TagNamesField(serializers.Field):
    """Tag names, sorted, read from prefetched tags (Wagtail's own field re-queries)."""

    def get_attribute(self, instance):
        return instance

    def to_representation(self, page) -> list[str]:
        return sorted(tag.name for tag in page.tags.all())
