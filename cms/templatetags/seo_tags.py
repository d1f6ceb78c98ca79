"""Emit JSON-LD and Open Graph tags for the current page."""

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cms.seo import structured_data

register = template.Library()


#: Inside a script element, "</script", "<!--" and "<script" change how the HTML parser
#: reads the rest of the page. JSON allows these characters escaped, and then none of
#: those sequences can appear (the same table as Django's ``json_script``).
_JSON_IN_HTML = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def json_for_html(data: object) -> str:
    """JSON that is safe to write inside an HTML ``<script>`` element, whatever it holds."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # U+2028/U+2029 end a line in older JavaScript parsers; escaped they are harmless.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.translate(_JSON_IN_HTML)


@register.simple_tag
def json_ld(page, home) -> str:
    if page is None or not getattr(page, "pk", None):
        return ""
    data = json_for_html(structured_data(page, home))
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
