"""Whether a page has something for a reader: the seed loader and the templates ask the same.

A page with only a title is a dead end: a reader who follows a link to it finds nothing and
no way on. The seed loader does not publish one, and a link that would land on one (the
screener's "continue to the program") is not shown.
"""

from __future__ import annotations

from django.db import models
from django.utils.html import strip_tags
from wagtail.fields import StreamField
from wagtail.models import Page


def _filled(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(strip_tags(value).strip())
    try:
        return len(value) > 0  # a StreamValue
    except TypeError:
        return bool(value)


def has_reader_content(page: Page | None) -> bool:
    """True when ``page`` holds text of its own, or is a listing of other pages.

    Text of its own: any text, rich text or stream field the page type adds to Wagtail's
    (title, slug and the SEO fields do not count). A listing is a type that declares the
    page types it holds (``subpage_types``): it shows its children or says it has none.
    """
    if page is None:
        return False
    specific = page if type(page) is not Page else page.specific
    if getattr(type(specific), "subpage_types", None):
        return True
    for field in specific._meta.concrete_fields:
        readable = isinstance(field, models.TextField | models.CharField | StreamField)
        if field.model is Page or not readable or field.choices:
            continue  # Wagtail's own fields, numbers and dates, or a choice (a setting)
        if _filled(getattr(specific, field.name)):
            return True
    return False
