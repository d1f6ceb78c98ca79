"""API representations of related objects that ``api_fields`` cannot express alone.

Wagtail's v2 API takes DRF serializers for these, and v3 reuses them through its
compatibility shim, so one definition serves both. Rich text is stored clean (see
``cms.rich_text``); what these add on the way out is the public-media rule.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework import serializers
from wagtail.api.rich_text import APIRichText
from wagtail.images.api.fields import ImageRenditionField

from cms import visibility
from cms.content import safe_url
from cms.rich_text import public_rich_text


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


def public_api_rich_text(
    value: str | None,
    request: HttpRequest | None,
    *,
    features: list[str] | None = None,
    rich_text_format: str | None = None,
) -> Any:
    """Stored rich text as the API returns it: without restricted images and documents,
    in the format the request asks for (``?rich_text_format=``, else the setting)."""
    if value is None:
        return None
    if rich_text_format is None:
        rich_text_format = APIRichText.resolve_format(
            request.GET.get("rich_text_format") if request else None
        )
    return APIRichText.serialize(
        public_rich_text(str(value)), format=rich_text_format, features=features
    )


class PublicRichTextSerializer(serializers.CharField):
    """A ``RichTextField`` in the v2 API and v3's shim (``cms.api`` maps every
    ``cms.rich_text.RichTextField`` here, as Wagtail maps its own)."""

    def to_representation(self, value: Any) -> Any:
        return public_api_rich_text(
            value,
            self.context.get("request"),
            # The format Wagtail's v2 view resolved (and validated) for this request.
            rich_text_format=self.context.get("_wagtail_rich_text_format"),
        )


class AuthorSerializer(serializers.Serializer):
    """An author as partners need to credit them: never internal fields."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    credentials = serializers.CharField()
    bio = PublicRichTextSerializer()
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
