"""Syndication feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for the blog and Seeds of Hope.

Each feed is built once into a format-neutral :class:`FeedData` (one query plan whose
size does not depend on the number of items), then written by a generator per format.
RSS and Atom go through Django's syndication framework; the generators are subclassed
only where RFC 5005 paging links, WebSub hub links, full HTML content or several
authors per item need adding. Item content comes from :func:`cms.content.page_content`,
so feeds say exactly what webhook payloads say.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Count, Max, Min, QuerySet
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, rfc2822_date, rfc3339_date
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from taggit.models import Tag
from wagtail.models import Page, Site

from cms import visibility
from cms.content import PageContent, page_content
from cms.models import Author, HomePage
from cms.syndication import Role, models_for, syndicated_models, syndication_of

#: Items per feed document, as on the blog's own listing pages (and WordPress's default);
#: older items are on archive pages (``?page=2`` ...).
PAGE_SIZE = 10
FORMATS = ("rss", "atom", "json")
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
MIME_TYPES = {fmt: content_type.split(";")[0] for fmt, content_type in CONTENT_TYPES.items()}
FORMAT_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
_JSON_HTML_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}
# A date for an empty feed that never changes, so its ETag does not either.
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

# Characters XML 1.0 forbids (or discourages, C1), lone surrogates and non-characters:
# an editor pasting them must not turn a feed into invalid XML or a 500.
_INVALID_XML_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)


class FeedNotFound(Exception):
    """The feed asked for does not exist (no blog, unknown tag or author, page out of range)."""


def clean_text(value: str | None) -> str:
    """Remove characters that no XML 1.0 document may contain."""
    return _INVALID_XML_CHARS.sub("", str(value or ""))


@dataclass(frozen=True)
class FeedKey:
    """Names one feed independent of format: its kind and, for tag and author feeds, a slug."""

    kind: str
    slug: str = ""

    def path(self, fmt: str, page: int = 1) -> str:
        kwargs = {"fmt": fmt}
        if self.kind in {"tag", "author"}:
            kwargs["slug"] = self.slug
        path = reverse(f"feeds:{self.kind}", kwargs=kwargs)
        return f"{path}?page={page}" if page > 1 else path

    def cache_id(self) -> str:
        return f"{self.kind}:{self.slug}"


@dataclass
class FeedItem:
    guid: str
    content: PageContent

    @property
    def html(self) -> str:
        """The full content; a page with no body (an event without links) shows its summary."""
        html = clean_text(self.content.html)
        return html or str(format_html("<p>{}</p>", clean_text(self.content.summary)))


@dataclass
class FeedData:
    """Everything a feed document says, whatever its format."""

    key: FeedKey
    root_url: str
    title: str
    description: str
    home_url: str
    author_name: str
    author_url: str
    updated: dt.datetime
    page: int
    num_pages: int
    items: list[FeedItem] = field(default_factory=list)
    #: Until when this build is right: the first expiry among the feed's pages.
    valid_until: dt.datetime | None = None
    hubs: tuple[str, ...] = ()

    def url(self, fmt: str, page: int = 1) -> str:
        return self.root_url + self.key.path(fmt, page)

    def paging_links(self, fmt: str) -> list[tuple[str, str]]:
        """RFC 5005 links, newest page first: page 1 is the subscription document.

        ``next``/``prev-archive`` lead to older items, ``previous``/``next-archive`` to
        newer ones, ``current`` back to the subscription document.
        """
        links: list[tuple[str, str]] = [("first", self.url(fmt, 1))]
        if self.num_pages > 1:
            links.append(("last", self.url(fmt, self.num_pages)))
        if self.page > 1:
            links.append(("current", self.url(fmt, 1)))
            links.append(("previous", self.url(fmt, self.page - 1)))
            if self.page > 2:
                links.append(("next-archive", self.url(fmt, self.page - 1)))
        if self.page < self.num_pages:
            links.append(("next", self.url(fmt, self.page + 1)))
            links.append(("prev-archive", self.url(fmt, self.page + 1)))
        return links

    def hub_links(self) -> list[tuple[str, str]]:
        """WebSub hubs are announced on the subscription document only."""
        return [("hub", hub) for hub in self.hubs] if self.page == 1 else []


def default_site() -> Site | None:
    return Site.objects.filter(is_default_site=True).select_related("root_page").first()


def feed_of(key: FeedKey) -> str:
    """The feed a key belongs to: its kind, or for tag and author feeds the feed whose
    items declare them."""
    if key.kind not in {"tag", "author"}:
        return key.kind
    tagged = (syndication_of(m) for m in syndicated_models())
    return next((facts.feed for facts in tagged if facts.tag_and_author_feeds), "")


def find_listing(site: Site, feed: str) -> Page | None:
    """The page a feed mirrors: the first public listing of ``feed`` on ``site``."""
    found = [
        visibility.public_pages(model.objects.descendant_of(site.root_page, inclusive=True))
        .order_by("path")
        .first()
        for model in models_for(feed, Role.LISTING)
    ]
    return min(filter(None, found), key=lambda page: page.path, default=None)


def feed_items(listing: Page, feed: str) -> QuerySet:
    """The public items of ``feed`` under its listing, with what their content reads."""
    (model,) = models_for(feed, Role.ITEM)  # one item type per feed: one query plan
    items = visibility.public_pages(model.objects.descendant_of(listing))
    return items.prefetch_related(*syndication_of(model).prefetch)


def _publisher(site: Site) -> str:
    home = HomePage.objects.filter(pk=site.root_page_id).first()
    if home is None:
        return settings.WAGTAIL_SITE_NAME
    return f"{home.department_name}, {home.organisation_name}"


class _RootUrlCache:
    """One object to hold Wagtail's site root paths while many page URLs are built."""


def build_feed(key: FeedKey, page: int = 1) -> FeedData:
    """Gather one feed page with a fixed number of queries, whatever the number of items.

    Raises :class:`FeedNotFound` when the feed or the page does not exist.
    """
    site = default_site()
    if site is None:
        raise FeedNotFound(_("This site has no default site configured."))
    url_cache = _RootUrlCache()
    feed = feed_of(key)
    listings = models_for(feed, Role.LISTING)
    if not listings or not models_for(feed, Role.ITEM):
        raise FeedNotFound(_("Unknown feed."))
    container = find_listing(site, feed)
    if container is None:
        name = listings[0]._meta.verbose_name
        raise FeedNotFound(_("There is no %(name)s.") % {"name": name})
    queryset = feed_items(container, feed)
    title = clean_text(container.title)
    home_url = container.get_full_url(url_cache) or ""
    description = str(syndication_of(container).description) % {"title": title}
    if key.kind == "tag":
        tag = Tag.objects.filter(slug=key.slug).first()
        if tag is None:
            raise FeedNotFound(_("There is no tag “%(slug)s”.") % {"slug": key.slug})
        queryset = queryset.filter(tags__slug=key.slug)
        title = _("%(blog)s: posts tagged “%(tag)s”") % {"blog": title, "tag": tag.name}
        home_url = f"{home_url}?tag={tag.slug}"
    elif key.kind == "author":
        author = Author.objects.filter(slug=key.slug).first()
        if author is None:
            raise FeedNotFound(_("There is no author “%(slug)s”.") % {"slug": key.slug})
        queryset = queryset.filter(pk__in=author.post_authors.values("page_id"))
        title = _("%(blog)s: posts by %(author)s") % {"blog": title, "author": author.name}
        home_url = f"{home_url}?author={author.slug}"

    stats = queryset.order_by().aggregate(
        count=Count("pk"), newest=Max("last_published_at"), first_expiry=Min("expire_at")
    )
    num_pages = max(1, math.ceil(stats["count"] / PAGE_SIZE))
    if page < 1 or page > num_pages:
        raise FeedNotFound(
            _("There is no page %(page)s; this feed has %(count)s.")
            % {"page": page, "count": num_pages}
        )
    start = (page - 1) * PAGE_SIZE
    pages = list(queryset.order_by("-first_published_at", "-pk")[start : start + PAGE_SIZE])
    items = [
        FeedItem(
            guid=f"urn:uuid:{item.translation_key}",
            content=page_content(item, cache_object=url_cache, parent_url=home_url.split("?")[0]),
        )
        for item in pages
    ]
    expiries = [d for d in (stats["first_expiry"], container.expire_at) if d]
    updated = stats["newest"] or container.last_published_at or EPOCH
    return FeedData(
        key=key,
        root_url=site.root_url,
        title=clean_text(title),
        description=clean_text(description),
        home_url=home_url,
        author_name=clean_text(_publisher(site)),
        author_url=site.root_url + "/",
        updated=updated,
        page=page,
        num_pages=num_pages,
        items=items,
        valid_until=min(expiries) if expiries else None,
        hubs=tuple(settings.WEBSUB_HUBS),
    )


# --- RSS and Atom: Django's generators, extended ------------------------------------


class _AtomLinksMixin:
    """Extra ``<link>`` elements at feed level (RFC 5005 paging, WebSub hubs)."""

    link_element = "link"

    def add_extra_links(self, handler) -> None:
        for rel, href in self.feed.get("extra_links", ()):
            handler.addQuickElement(self.link_element, "", {"rel": rel, "href": href})

    def latest_post_date(self) -> dt.datetime:
        # Django falls back to "now" for an empty feed, which would change the ETag on
        # every build; the feed's own date never does.
        return self.feed["updated"]


class AtomFeed(_AtomLinksMixin, Atom1Feed):
    """Atom 1.0 (RFC 4287) with full HTML content, every author, and paging/hub links."""

    def add_root_elements(self, handler) -> None:
        super().add_root_elements(handler)
        self.add_extra_links(handler)

    def add_item_elements(self, handler, item) -> None:
        handler.addQuickElement("title", item["title"], {"type": "text"})
        handler.addQuickElement("link", "", {"href": item["link"], "rel": "alternate"})
        handler.addQuickElement("id", item["unique_id"])
        if item["pubdate"] is not None:
            handler.addQuickElement("published", rfc3339_date(item["pubdate"]))
        handler.addQuickElement("updated", rfc3339_date(item["updateddate"] or item["pubdate"]))
        for author in item["authors"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", author["name"])
            if author["url"]:
                handler.addQuickElement("uri", author["url"])
            handler.endElement("author")
        if item["description"]:
            handler.addQuickElement("summary", item["description"], {"type": "text"})
        handler.addQuickElement("content", item["content_html"], {"type": "html"})
        for category in item["categories"]:
            handler.addQuickElement("category", "", {"term": category})


class RssFeed(_AtomLinksMixin, Rss201rev2Feed):
    """RSS 2.0 with ``content:encoded``, ``dc:creator`` per author and atom:link paging/hubs."""

    link_element = "atom:link"

    def rss_attributes(self) -> dict:
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
            "xmlns:dc": "http://purl.org/dc/elements/1.1/",
        }

    def add_root_elements(self, handler) -> None:
        super().add_root_elements(handler)
        self.add_extra_links(handler)

    def add_item_elements(self, handler, item) -> None:
        handler.addQuickElement("title", item["title"])
        handler.addQuickElement("link", item["link"])
        handler.addQuickElement("description", item["description"] or item["title"])
        handler.addQuickElement("content:encoded", item["content_html"])
        for author in item["authors"]:
            handler.addQuickElement("dc:creator", author["name"])
        if item["pubdate"] is not None:
            handler.addQuickElement("pubDate", rfc2822_date(item["pubdate"]))
        handler.addQuickElement("guid", item["unique_id"], {"isPermaLink": "false"})
        for category in item["categories"]:
            handler.addQuickElement("category", category)


class _SyndicationFeed(Feed):
    """Maps :class:`FeedData` onto Django's ``Feed``; used through :func:`render_feed`."""

    fmt = "atom"
    language = settings.LANGUAGE_CODE

    def __init__(self, data: FeedData) -> None:
        super().__init__()
        self.data = data

    def get_object(self, request, *args, **kwargs) -> FeedData:
        return self.data

    def title(self, obj: FeedData) -> str:
        return obj.title

    def link(self, obj: FeedData) -> str:
        return obj.home_url

    def description(self, obj: FeedData) -> str:
        return obj.description

    def subtitle(self, obj: FeedData) -> str:
        return obj.description

    def feed_url(self, obj: FeedData) -> str:
        return obj.url(self.fmt, obj.page)

    def feed_guid(self, obj: FeedData) -> str:
        return obj.url(self.fmt)

    def author_name(self, obj: FeedData) -> str:
        # Feed-level author keeps Atom valid when a post has none (RFC 4287 4.1.1).
        return obj.author_name

    def author_link(self, obj: FeedData) -> str:
        return obj.author_url

    def feed_extra_kwargs(self, obj: FeedData) -> dict:
        return {
            "updated": obj.updated,
            "extra_links": obj.paging_links(self.fmt) + obj.hub_links(),
        }

    def items(self, obj: FeedData) -> list[FeedItem]:
        return obj.items

    def item_title(self, item: FeedItem) -> str:
        return clean_text(item.content.title)

    def item_description(self, item: FeedItem) -> str:
        return clean_text(item.content.summary)

    def item_link(self, item: FeedItem) -> str:
        return item.content.url

    def item_guid(self, item: FeedItem) -> str:
        return item.guid

    def item_pubdate(self, item: FeedItem) -> dt.datetime | None:
        return item.content.published_at

    def item_updateddate(self, item: FeedItem) -> dt.datetime | None:
        return item.content.updated_at

    def item_categories(self, item: FeedItem) -> list[str]:
        return [clean_text(tag) for tag in item.content.tags]

    def item_extra_kwargs(self, item: FeedItem) -> dict:
        return {
            "content_html": item.html,
            "authors": [
                {"name": clean_text(author.name), "url": author.url}
                for author in item.content.authors
            ],
        }


class _AtomSyndication(_SyndicationFeed):
    feed_type = AtomFeed
    fmt = "atom"


class _RssSyndication(_SyndicationFeed):
    feed_type = RssFeed
    fmt = "rss"


def _json_date(value: dt.datetime | None) -> str | None:
    return rfc3339_date(value) if value else None


def render_json_feed(data: FeedData) -> bytes:
    """JSON Feed 1.1, written by hand: Django has no generator for it and it is small.

    https://www.jsonfeed.org/version/1.1/ — ``next_url`` points to the next older page.
    """
    feed: dict = {
        "version": JSON_FEED_VERSION,
        "title": data.title,
        "home_page_url": data.home_url,
        "feed_url": data.url("json", data.page),
        "description": data.description,
        "language": settings.LANGUAGE_CODE,
        "authors": [{"name": data.author_name, "url": data.author_url}],
    }
    if data.hub_links():
        feed["hubs"] = [{"type": "WebSub", "url": href} for _rel, href in data.hub_links()]
    if data.page < data.num_pages:
        feed["next_url"] = data.url("json", data.page + 1)
    items = []
    for item in data.items:
        content = item.content
        entry: dict = {
            "id": item.guid,
            "url": content.url,
            "title": clean_text(content.title),
            "content_html": item.html,
        }
        if content.summary:
            entry["summary"] = clean_text(content.summary)
        if content.published_at:
            entry["date_published"] = _json_date(content.published_at)
        if content.updated_at:
            entry["date_modified"] = _json_date(content.updated_at)
        if content.authors:
            entry["authors"] = [
                {"name": clean_text(a.name), **({"url": a.url} if a.url else {})}
                for a in content.authors
            ]
        if content.tags:
            entry["tags"] = [clean_text(tag) for tag in content.tags]
        items.append(entry)
    feed["items"] = items
    text = json.dumps(feed, ensure_ascii=False, indent=1)
    # Same JSON, but markup characters escaped: a title like "<script>" stays text even
    # if a consumer pastes the document into HTML.
    return text.translate(_JSON_HTML_ESCAPES).encode("utf-8")


def render_feed(data: FeedData, fmt: str, request: HttpRequest) -> bytes:
    """Write ``data`` in ``fmt`` ("rss", "atom" or "json") as UTF-8 bytes."""
    if fmt == "json":
        return render_json_feed(data)
    syndication = (_AtomSyndication if fmt == "atom" else _RssSyndication)(data)
    xml = syndication.get_feed(data, request).writeString("utf-8")
    # A browser shows the feed as a page with "how to subscribe" (static/feeds/feed.xsl);
    # feed readers ignore the processing instruction. Right after the XML declaration.
    return xml.replace(
        "?>", f'?><?xml-stylesheet href="{static("feeds/feed.xsl")}" type="text/xsl"?>', 1
    ).encode("utf-8")
