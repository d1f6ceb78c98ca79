"""Rich text for public outputs: images and documents from restricted collections left out.

``public_rich_text`` removes them from stored (database-format) rich text before it is
expanded or sent: the image embed, and the document link with its text (Wagtail's
chooser writes the document's title there). Reader templates (``clean_richtext``) and
every API rich text field (``cms.content``) call it. As a second line, the handlers that
expand ``<embed embedtype="image">`` and ``<a linktype="document">`` replace Wagtail's
(registered after them, see ``wagtail_hooks``) and ask the same rule.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from wagtail.documents import get_document_model
from wagtail.documents.rich_text import DocumentLinkHandler
from wagtail.images import get_image_model
from wagtail.images.formats import get_image_format
from wagtail.images.rich_text import ImageEmbedHandler

from cms import visibility
from cms.params import valid_ids


class PublicMediaMixin:
    """A handler that finds only what the public may see: the rest reads as missing."""

    @classmethod
    def get_many(cls, attrs_list: list[dict]) -> list:
        found = super().get_many(attrs_list)  # type: ignore[misc]
        return [obj if visibility.is_public_media(obj) else None for obj in found]


class PublicImageEmbedHandler(PublicMediaMixin, ImageEmbedHandler):
    """An image in rich text, or nothing when its collection is restricted."""

    @classmethod
    def expand_db_attributes_many(cls, attrs_list: list[dict]) -> list[str]:
        # Wagtail writes an empty ``<img alt="">`` for a missing image; we write nothing.
        return [
            get_image_format(attrs["format"]).image_to_html(image, attrs.get("alt", ""))
            if image is not None
            else ""
            for attrs, image in zip(attrs_list, cls.get_many(attrs_list), strict=True)
        ]


class PublicDocumentLinkHandler(PublicMediaMixin, DocumentLinkHandler):
    """A document link, or its text alone when the document's collection is restricted
    (``public_rich_text`` removes the text too, before this runs)."""


_MEDIA_REFERENCE = re.compile(r"embedtype=\"image\"|linktype=\"document\"")


def _public_ids(model, elements) -> set[str]:
    ids = valid_ids(element.get("id") for element in elements)
    if not ids:
        return set()
    found = visibility.public_media(model.objects.filter(pk__in=ids))
    return {str(pk) for pk in found.values_list("pk", flat=True)}


def public_rich_text(source: str) -> str:
    """Stored rich text without the images and document links the public may not see."""
    if not source or not _MEDIA_REFERENCE.search(source):
        return source
    soup = BeautifulSoup(source, "html.parser")
    for tag, attrs, model in (
        ("embed", {"embedtype": "image"}, get_image_model()),
        ("a", {"linktype": "document"}, get_document_model()),
    ):
        elements = soup.find_all(tag, attrs=attrs)
        shown = _public_ids(model, elements)
        for element in elements:
            if element.get("id") not in shown:
                element.decompose()
    return str(soup)
