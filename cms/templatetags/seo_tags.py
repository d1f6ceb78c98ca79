"""Emit JSON-LD and Open Graph tags for the current page."""

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cms.seo import structured_data

register = template.Library()


@register.simple_tag
def json_ld(page, home) -> str:
    if page is None or not getattr(page, "pk", None):
        return ""
    data = json.dumps(structured_data(page, home), ensure_ascii=False, separators=(",", ":"))
    # "</" would end the script element early; JSON allows the escaped form.
    data = data.replace("</", "<\\/")
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(data))  # noqa: S308


@register.simple_tag
def page_description(page) -> str:
    """The editor's search description, else the post's lead or the event's teaser."""
    specific = page.specific
    return (
        page.search_description
        or getattr(specific, "summary", "")
        or getattr(specific, "teaser", "")
    ).strip()
