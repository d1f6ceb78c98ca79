"""Rich text: cleaned once when it is saved, and filtered for the public when it is read.

On the way in, every rich text value (``RichTextField`` and ``RichTextBlock``, whatever
path wrote it: admin form, v3 write API, code, revisions) goes through ``clean_rich_text``,
one nh3 allow-list of Wagtail's database format. Outputs then carry what is stored as it
is, with no second cleaner.

On the way out, ``public_rich_text`` removes images and documents from restricted
collections: the image embed, and the document link with its text (Wagtail's chooser
writes the document's title there). This cannot happen on save, since a collection may
be restricted later. Reader templates (``clean_richtext``) and every API rich text field
(``RichTextBlock``, ``cms.serializers``) call it. As a second line, the handlers that
expand ``<embed embedtype="image">`` and ``<a linktype="document">`` replace Wagtail's
(registered after them, see ``wagtail_hooks``) and ask the same rule.
"""

from __future__ import annotations

import re
from typing import Any

import nh3
from bs4 import BeautifulSoup
from django.db.models import Model
from wagtail import blocks
from wagtail import fields as wagtail_fields
from wagtail.blocks import StreamValue
from wagtail.documents import get_document_model
from wagtail.documents.rich_text import DocumentLinkHandler
from wagtail.images import get_image_model
from wagtail.images.formats import get_image_format
from wagtail.images.rich_text import ImageEmbedHandler
from wagtail.rich_text import RichText

from cms import visibility
from cms.content import SAFE_URL_SCHEMES, safe_url
from cms.params import valid_ids

#: Wagtail's database format for rich text, every editor feature included: the blocks
#: and inline styles Draftail writes, links (external ``href``, or ``linktype`` + ``id``
#: for pages and documents) and ``<embed>`` for images and media. Nothing else: no
#: ``style``, ``class``, ``on*`` attribute, ``iframe``, ``img`` or ``svg``.
RICH_TEXT_TAGS = frozenset({
    "a", "b", "blockquote", "br", "code", "div", "em", "embed", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "li", "ol", "p", "s", "strong", "sub", "sup", "ul",
})  # fmt: skip
RICH_TEXT_ATTRIBUTES = {
    "*": frozenset({"data-block-key"}),
    "a": frozenset({"href", "id"}),
    "embed": frozenset({"id", "format", "alt", "url"}),
}
#: Only Wagtail's own link and embed types; an unknown one would expand to nothing anyway.
RICH_TEXT_ATTRIBUTE_VALUES = {
    "a": {"linktype": frozenset({"page", "document"})},
    "embed": {"embedtype": frozenset({"image", "media"})},
}
#: Removed with their content (other unknown elements are unwrapped, keeping their text).
RICH_TEXT_DROPPED_WITH_CONTENT = frozenset({
    "iframe", "math", "noscript", "object", "script", "style", "svg", "template", "textarea",
    "title", "xmp",
})  # fmt: skip
RICH_TEXT_URL_SCHEMES = frozenset(SAFE_URL_SCHEMES)

# Links and embeds in nh3's output. It double-quotes every attribute and escapes ``<``
# and ``>`` inside values, so the first ``>`` ends the tag.
_LINK_OR_EMBED = re.compile(r"<(a|embed)\b([^>]*?)\s*/?>")
_ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
#: What Wagtail's handlers read from each embed type (a missing one is a server error).
_EMBED_REQUIRES = {"image": "id", "media": "url"}


def _wagtail_link_or_embed(match: re.Match) -> str:
    """A link or embed as Wagtail's rewriters need it, or nothing.

    An embed keeps its tag only with a known type and what that type's handler reads, and
    is written ``<embed .../>`` (the rewriter finds no other form). A link's ``id`` goes
    with its ``linktype``: one without the other is dropped.
    """
    tag, attributes = match.group(1), match.group(2)
    found = dict(_ATTRIBUTE.findall(attributes))
    if tag == "embed":
        required = _EMBED_REQUIRES.get(found.get("embedtype", ""))
        return f"<embed{attributes}/>" if required and found.get(required) else ""
    if ("linktype" in found) == bool(found.get("id")):
        return match.group(0)
    kept = "".join(f' {k}="{v}"' for k, v in found.items() if k not in ("linktype", "id"))
    return f"<a{kept}>"


def _embed_url_only_if_safe(tag: str, attribute: str, value: str) -> str | None:
    """nh3 checks ``href``; the media embed's ``url`` needs the same rule."""
    if tag == "embed" and attribute == "url" and not safe_url(value):
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=set(RICH_TEXT_TAGS),
    attributes={tag: set(names) for tag, names in RICH_TEXT_ATTRIBUTES.items()},
    tag_attribute_values={
        tag: {name: set(values) for name, values in rules.items()}
        for tag, rules in RICH_TEXT_ATTRIBUTE_VALUES.items()
    },
    clean_content_tags=set(RICH_TEXT_DROPPED_WITH_CONTENT),
    url_schemes=set(RICH_TEXT_URL_SCHEMES),
    link_rel=None,
    attribute_filter=_embed_url_only_if_safe,
)


def clean_rich_text(source: str | None) -> str:
    """``source`` reduced to Wagtail's database format, with nothing that can run.

    The one cleaner of rich text: ``RichTextField`` and ``RichTextBlock`` below call it
    on every save, so what is stored (live rows and revisions alike) is already safe for
    every output. Idempotent: cleaning clean text changes nothing.

    The data migrations ``cms`` 0008 and ``screening`` 0005 import it by this name.
    """
    if not source:
        return ""
    return _LINK_OR_EMBED.sub(_wagtail_link_or_embed, _CLEANER.clean(source))


class RichTextField(wagtail_fields.RichTextField):
    """Wagtail's ``RichTextField``, cleaned whenever it is written.

    ``pre_save`` serves ``save()``, ``bulk_create`` and revisions (modelcluster reads
    fields through it), and leaves the instance holding the clean value;
    ``get_db_prep_save`` serves ``QuerySet.update`` and ``bulk_update``. Migrations see
    Wagtail's class (``deconstruct``): the column is the same text column.
    """

    def pre_save(self, model_instance: Model, add: bool) -> str:
        value = clean_rich_text(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if isinstance(value, str):
            value = clean_rich_text(value)
        return super().get_db_prep_save(value, connection)

    def deconstruct(self) -> tuple:
        name, _path, args, kwargs = super().deconstruct()
        return name, "wagtail.fields.RichTextField", args, kwargs


class RichTextBlock(blocks.RichTextBlock):
    """Wagtail's ``RichTextBlock``, cleaned when written, public media only when read.

    ``get_prep_value`` is how a StreamField (and a revision of it) stores each block.
    Migrations see Wagtail's class (``deconstruct``), like ``MultipleChoiceBlock``.
    """

    def get_prep_value(self, value: RichText) -> str:
        return clean_rich_text(value.source)

    def get_api_representation(self, value: RichText, context: dict | None = None) -> Any:
        return super().get_api_representation(RichText(public_rich_text(value.source)), context)

    def deconstruct(self) -> tuple:
        _path, args, kwargs = super().deconstruct()
        return "wagtail.blocks.RichTextBlock", args, kwargs


class StreamField(wagtail_fields.StreamField):
    """Wagtail's ``StreamField``, with every block written through its block.

    Wagtail writes a stream item that was never read back as the raw JSON it was loaded
    with, and ``QuerySet.update`` with a plain list as that list: both would skip
    ``RichTextBlock.get_prep_value``. Here a stream is read item by item before it is
    written (``save()``, revisions), and a plain list or JSON string given to
    ``update`` becomes a stream first. Migrations see Wagtail's class.
    """

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, StreamValue):
            for _child in value:  # binds each raw item to its block
                pass
        return super().get_prep_value(value)

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if isinstance(value, list | tuple | str) and value:
            value = self.to_python(value)
        return super().get_db_prep_save(value, connection)

    def deconstruct(self) -> tuple:
        name, _path, args, kwargs = super().deconstruct()
        return name, "wagtail.fields.StreamField", args, kwargs


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
