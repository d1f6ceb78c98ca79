"""Rich text for public outputs: images and documents from restricted collections left out.

Wagtail expands ``<embed embedtype="image">`` and ``<a linktype="document">`` through
the handlers registered as rich text features; ours replace Wagtail's (registered after
them, see ``wagtail_hooks``) and ask the one visibility rule, so pages, feeds, webhook
payloads and API rich text all drop what the public may not see.
"""

from __future__ import annotations

from wagtail.documents.rich_text import DocumentLinkHandler
from wagtail.images.formats import get_image_format
from wagtail.images.rich_text import ImageEmbedHandler

from cms import visibility


class PublicImageEmbedHandler(ImageEmbedHandler):
    """An image in rich text, or nothing when its collection is restricted."""

    @classmethod
    def get_many(cls, attrs_list: list[dict]) -> list:
        return [
            image if visibility.is_public_media(image) else None
            for image in super().get_many(attrs_list)
        ]

    @classmethod
    def expand_db_attributes_many(cls, attrs_list: list[dict]) -> list[str]:
        # Wagtail writes an empty ``<img alt="">`` for a missing image; we write nothing.
        return [
            get_image_format(attrs["format"]).image_to_html(image, attrs.get("alt", ""))
            if image is not None
            else ""
            for attrs, image in zip(attrs_list, cls.get_many(attrs_list), strict=True)
        ]


class PublicDocumentLinkHandler(DocumentLinkHandler):
    """A document link, or its text alone when the document's collection is restricted."""

    @classmethod
    def get_many(cls, attrs_list: list[dict]) -> list:
        return [
            document if visibility.is_public_media(document) else None
            for document in super().get_many(attrs_list)
        ]
