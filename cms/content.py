"""One plain description of a page's public content, for every output that leaves the site.

Feeds, webhook payloads and structured data all need the same facts (canonical URL,
summary, full HTML with absolute links, authors, tags, dates). Building them here once
keeps those outputs consistent.

Stored rich text is already clean (``cms.rich_text.clean_rich_text`` runs on every save).
``sanitize`` below is not a second rich text cleaner: it trims the *rendered* page for
feed readers and partners, where the templates add markup of their own and embeds
expand to the provider's HTML (iframes, scripts) only at render time.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from urllib.parse import urljoin

import nh3
from bs4 import BeautifulSoup
from django.template.loader import render_to_string
from wagtail.models import Page

# Tags and attributes allowed in the rendered HTML that leaves the site (feeds, webhooks):
# what the templates and body blocks produce, minus embeds and anything that could run.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "div", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol",
    "p", "pre", "q", "section", "small", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "time", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}

SAFE_URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Browsers drop ASCII whitespace and control characters inside a scheme ("java\tscript:").
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]")


def safe_url(url: str | None) -> str:
    """``url`` if following it cannot run script, else ``""``.

    URLField validation keeps ``javascript:`` out of admin forms, but not out of imports,
    the shell or data migrations; every href built from a stored URL goes through here.
    Relative URLs (no scheme) are kept.
    """
    value = (url or "").strip()
    scheme, colon, _ = _IGNORED_IN_SCHEME.sub("", value).partition(":")
    if colon and not any(c in scheme for c in "/?#") and scheme.lower() not in SAFE_URL_SCHEMES:
        return ""
    return value


@dataclass
class Author:
    name: str
    credentials: str = ""
    url: str = ""


@dataclass
class PageContent:
    """The public facts about a live page, with absolute URLs throughout."""

    id: int
    type: str
    title: str
    url: str
    summary: str
    html: str
    authors: list[Author] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    published_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    date: dt.date | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("published_at", "updated_at", "date"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value else None
        return data


def absolutize(html: str, base_url: str) -> str:
    """Make every link and image URL absolute, so the HTML works on a partner's site."""
    soup = BeautifulSoup(html, "html.parser")
    for tag, attr in (("a", "href"), ("img", "src")):
        for element in soup.find_all(tag):
            value = element.get(attr)
            if value and not value.startswith(("#", "mailto:", "tel:")):
                element[attr] = urljoin(base_url, value)
    return str(soup)


def sanitize(html: str) -> str:
    """The rendered page for syndication: the structure the body blocks produce, without
    provider embeds (iframes, scripts) or anything else that could run on a partner's page."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener",
    )


def page_content(
    page: Page, *, cache_object: object | None = None, parent_url: str | None = None
) -> PageContent:
    """Describe ``page`` (any of our page types) for output outside the site.

    Callers describing many pages at once (feeds) pass one ``cache_object`` so the
    site root paths are looked up once, and the parent's URL when they know it, so
    the cost per page stays free of extra queries.
    """
    page = page.specific
    url = page.get_full_url(cache_object) or ""
    base_url = url or ""
    if parent_url is None and hasattr(page, "post_authors"):
        parent_url = page.get_parent().get_full_url(cache_object) or ""
    body = render_to_string("includes/page_content.html", {"page": page})
    html = sanitize(absolutize(body, base_url)).strip()
    authors = [
        Author(
            name=author.name,
            credentials=author.credentials,
            url=urljoin(parent_url or "", f"?author={author.slug}"),
        )
        for author in getattr(page, "author_list", [])
    ]
    tags = [tag.name for tag in page.tags.all()] if hasattr(page, "tags") else []
    summary = getattr(page, "summary", "") or getattr(page, "teaser", "") or page.search_description
    return PageContent(
        id=page.pk,
        type=page._meta.label,
        title=page.title,
        url=url,
        summary=summary.strip(),
        html=html,
        authors=authors,
        tags=tags,
        published_at=page.first_published_at,
        updated_at=page.last_published_at or page.first_published_at,
        date=getattr(page, "date", None),
    )
