"""Feed discovery: ``<link rel="alternate">`` in page heads and the list on the home page."""

from __future__ import annotations

import re

from django import template
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag

from cms import visibility
from cms.models import Author, HomePage
from cms.syndication import Role, models_for, syndicated_models, syndication_of
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
    facts = syndication_of(page)
    if isinstance(page, HomePage):
        feeds: list[dict] = []
        for model in syndicated_models():
            if syndication_of(model).role is not Role.LISTING:
                continue
            index = visibility.public_pages(model.objects.descendant_of(page)).order_by("path")
            if (index := index.first()) is not None:
                feeds.append(_feed(request, FeedKey(syndication_of(model).feed), index.title))
        return feeds
    if facts is None:
        return []
    if facts.role is Role.ITEM:
        parent = visibility.public_parent(page)
        return [] if parent is None else [_feed(request, FeedKey(facts.feed), parent.title)]
    feeds = _tag_and_author_feeds(page, request) if _items_have_tag_feeds(facts.feed) else []
    return [*feeds, _feed(request, FeedKey(facts.feed), page.title)]


def _items_have_tag_feeds(feed: str) -> bool:
    return any(syndication_of(m).tag_and_author_feeds for m in models_for(feed, Role.ITEM))


def _tag_and_author_feeds(page, request) -> list[dict]:
    """A listing filtered by ``?tag=`` or ``?author=`` announces that feed first."""
    feeds: list[dict] = []
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
            name = _("%(blog)s: posts by %(author)s") % {"blog": page.title, "author": author.name}
            feeds.append(_feed(request, FeedKey("author", author.slug), name))
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
