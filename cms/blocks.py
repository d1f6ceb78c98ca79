"""StreamField blocks for article bodies (bakerydemo's ``base/blocks.py`` shape)."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock

from cms import visibility
from cms.rich_text import RichTextBlock


class HeadingBlock(blocks.StructBlock):
    """A section heading; the level is chosen so the page outline stays valid."""

    text = blocks.CharBlock(label=_("Text"), max_length=255)
    level = blocks.ChoiceBlock(
        label=_("Level"),
        choices=[("h2", _("Heading 2")), ("h3", _("Heading 3")), ("h4", _("Heading 4"))],
        default="h2",
    )

    class Meta:
        icon = "title"
        template = "blocks/heading_block.html"
        preview_value = {"text": "Aromatase inhibitor", "level": "h2"}


class QuoteBlock(blocks.StructBlock):
    """A pull quote with its source, kept apart from paragraphs for styling and feeds."""

    text = blocks.TextBlock(label=_("Quote"))
    attribution = blocks.CharBlock(label=_("Attribution"), required=False, max_length=255)

    class Meta:
        icon = "openquote"
        template = "blocks/quote_block.html"
        preview_value = {"text": "Early detection saves lives.", "attribution": "Dr. Lee"}


class CaptionedImageBlock(blocks.StructBlock):
    """An image with its alt text (from the image block) and an optional caption."""

    image = ImageBlock(label=_("Image"))
    caption = blocks.CharBlock(label=_("Caption"), required=False, max_length=255)

    class Meta:
        icon = "image"
        template = "blocks/image_block.html"

    def render(self, value, context=None):
        # An image from a restricted collection leaves no trace on a public output.
        if not visibility.is_public_media(value.get("image")):
            return ""
        return super().render(value, context)

    def get_api_representation(self, value, context=None):
        if not visibility.is_public_media(value.get("image")):
            return None
        return super().get_api_representation(value, context)


class ArticleStreamBlock(blocks.StreamBlock):
    """The body of a blog post or content page."""

    heading = HeadingBlock()
    paragraph = RichTextBlock(
        label=_("Paragraph"),
        features=["bold", "italic", "link", "document-link", "ol", "ul", "superscript"],
        template="blocks/paragraph_block.html",
        icon="pilcrow",
    )
    quote = QuoteBlock()
    image = CaptionedImageBlock()
    embed = EmbedBlock(label=_("Embed"), icon="media", template="blocks/embed_block.html")
