"""Feed discovery: ``<link rel="alternate">`` in page heads and the list on the home page."""

from __future__ import annotations

import re

from django import template
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag

from cms import visibility
from cms.models import (
    Author,
    BlogIndexPage,
    BlogPostPage,
    EventIndexPage,
    EventResourcesPage,
    HomePage,
)
from publishing.syndication.feeds import FORMAT_NAMES, FORMATS, MIME_TYPES, FeedKey

register = template.Library()

_SLUG = re.compile(r"^[-\w]+$")


def _feed(request, key: FeedKey, name: str) -> dict:
    """One feed in every format, with absolute URLs (feed readers resolve them as given)."""
    return {
        "name": name,
        "formats": [
            {
                "title": _("%(name)s (%(format)s)") % {"name": name, "format": FORMAT_NAMES[fmt]},
                "format": FORMAT_NAMES[fmt],
                "type": MIME_TYPES[fmt],
                "href": request.build_absolute_uri(key.path(fmt)) if request else key.path(fmt),
            }
            for fmt in FORMATS
        ],
    }


def feeds_for_page(page, request) -> list[dict]:
    """The feeds a page announces: its own listing's feeds, most specific first."""
    feeds: list[dict] = []
    if isinstance(page, BlogIndexPage):
        params = request.GET if request else {}
        tag_slug = params.get("tag", "").strip()
        author_slug = params.get("author", "").strip()
        if tag_slug and _SLUG.match(tag_slug):
            tag = Tag.objects.filter(slug=tag_slug).first()
            if tag:
                name = _("%(blog)s: posts tagged “%(tag)s”") % {"blog": page.title, "tag": tag.name}
                feeds.append(_feed(request, FeedKey("tag", tag.slug), name))
        if author_slug and _SLUG.match(author_slug):
            author = Author.objects.filter(slug=author_slug).first()
            if author:
                name = _("%(blog)s: posts by %(author)s") % {
                    "blog": page.title,
                    "author": author.name,
                }
                feeds.append(_feed(request, FeedKey("author", author.slug), name))
        feeds.append(_feed(request, FeedKey("blog"), page.title))
    elif isinstance(page, BlogPostPage):
        if (parent := visibility.public_parent(page)) is not None:
            feeds.append(_feed(request, FeedKey("blog"), parent.title))
    elif isinstance(page, EventIndexPage):
        feeds.append(_feed(request, FeedKey("events"), page.title))
    elif isinstance(page, EventResourcesPage):
        if (parent := visibility.public_parent(page)) is not None:
            feeds.append(_feed(request, FeedKey("events"), parent.title))
    elif isinstance(page, HomePage):
        for model, kind in ((BlogIndexPage, "blog"), (EventIndexPage, "events")):
            index = visibility.public_pages(model.objects.descendant_of(page)).order_by("path")
            index = index.first()
            if index is not None:
                feeds.append(_feed(request, FeedKey(kind), index.title))
    return feeds


@register.inclusion_tag("publishing/feed_links.html", takes_context=True)
def feed_links(context) -> dict:
    """``<link rel="alternate">`` for each feed of the current page, in every format."""
    page = context.get("page")
    return {"feeds": feeds_for_page(page, context.get("request")) if page else []}


@register.inclusion_tag("publishing/feed_list.html", takes_context=True)
def feed_list(context) -> dict:
    """A visible list of the site's feeds (the home page lists them all)."""
    page = context.get("page")
    return {"feeds": feeds_for_page(page, context.get("request")) if page else []}
