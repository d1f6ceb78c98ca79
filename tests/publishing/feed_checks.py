"""Feed validators for the tests: feedparser, RFC 4287 / RSS 2.0 rules, the JSON Feed 1.1 schema.

The W3C validator cannot run here (no network), so the rules it applies to Atom
(RFC 4287's MUSTs) and RSS 2.0 are written out below; JSON Feed is checked against a
schema transcribed from https://www.jsonfeed.org/version/1.1/.
"""

from __future__ import annotations

import email.utils
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import feedparser
import jsonschema

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)

_author = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
        "avatar": {"type": "string", "format": "uri"},
    },
    "anyOf": [{"required": ["name"]}, {"required": ["url"]}, {"required": ["avatar"]}],
}
_date = {"type": "string", "pattern": RFC3339.pattern[:-1] + "$"}

JSON_FEED_1_1_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string", "minLength": 1},
        "home_page_url": {"type": "string", "format": "uri"},
        "feed_url": {"type": "string", "format": "uri"},
        "description": {"type": "string"},
        "user_comment": {"type": "string"},
        "next_url": {"type": "string", "format": "uri"},
        "icon": {"type": "string"},
        "favicon": {"type": "string"},
        "authors": {"type": "array", "items": _author},
        "language": {"type": "string"},
        "expired": {"type": "boolean"},
        "hubs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "url"],
                "properties": {"type": {"type": "string"}, "url": {"type": "string"}},
            },
        },
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "url": {"type": "string", "format": "uri"},
                    "external_url": {"type": "string", "format": "uri"},
                    "title": {"type": "string"},
                    "content_html": {"type": "string"},
                    "content_text": {"type": "string"},
                    "summary": {"type": "string"},
                    "image": {"type": "string"},
                    "banner_image": {"type": "string"},
                    "date_published": _date,
                    "date_modified": _date,
                    "authors": {"type": "array", "items": _author},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "language": {"type": "string"},
                    "attachments": {"type": "array"},
                },
            },
        },
    },
}


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https", "urn", "tag"} and bool(parts.netloc or parts.path)


def check_feedparser(body: bytes, content_type: str) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(body, response_headers={"content-type": content_type})
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def check_atom(body: bytes) -> ET.Element:
    """RFC 4287's MUSTs for a feed document (what the W3C validator reports as errors)."""
    root = ET.fromstring(body)  # noqa: S314 - our own output
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, f"feed needs exactly one {name}"
    assert _absolute(root.findtext(f"{ATOM}id")), "feed id must be an absolute IRI"
    assert RFC3339.match(root.findtext(f"{ATOM}updated"))
    self_links = [e for e in root.findall(f"{ATOM}link") if e.get("rel") == "self"]
    assert len(self_links) == 1, "exactly one rel=self"
    alternates = [
        e for e in root.findall(f"{ATOM}link") if e.get("rel", "alternate") == "alternate"
    ]
    assert len({(e.get("type"), e.get("hreflang")) for e in alternates}) == len(alternates)
    for link in root.findall(f"{ATOM}link"):
        assert _absolute(link.get("href")), link.get("href")
    feed_has_author = bool(root.findall(f"{ATOM}author/{ATOM}name"))
    ids = []
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, f"entry needs exactly one {name}"
        ids.append(entry.findtext(f"{ATOM}id"))
        assert _absolute(ids[-1])
        for name in ("updated", "published"):
            value = entry.findtext(f"{ATOM}{name}")
            assert value is None or RFC3339.match(value), value
        assert feed_has_author or entry.findall(f"{ATOM}author/{ATOM}name"), "no author"
        content = entry.find(f"{ATOM}content")
        if content is None:
            assert [e for e in entry.findall(f"{ATOM}link") if e.get("rel") == "alternate"]
        else:
            assert content.get("type") in {"text", "html", "xhtml"}
        for link in entry.findall(f"{ATOM}link"):
            assert _absolute(link.get("href"))
    assert len(ids) == len(set(ids)), "entry ids must be unique"
    return root


def check_rss(body: bytes) -> ET.Element:
    """RSS 2.0 required elements, RFC 822 dates and unique guids."""
    root = ET.fromstring(body)  # noqa: S314 - our own output
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for name in ("title", "link", "description"):
        assert channel.findtext(name), f"channel needs {name}"
    self_links = [e for e in channel.findall(f"{ATOM}link") if e.get("rel") == "self"]
    assert len(self_links) == 1
    guids = []
    for item in channel.findall("item"):
        assert item.findtext("title") or item.findtext("description")
        assert _absolute(item.findtext("link"))
        pub_date = item.findtext("pubDate")
        assert email.utils.parsedate_to_datetime(pub_date).tzinfo is not None
        assert re.match(
            r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$", pub_date
        )
        guids.append(item.findtext("guid"))
    assert len(guids) == len(set(guids))
    return root


def check_json_feed(body: bytes) -> dict:
    data = json.loads(body)
    jsonschema.validate(
        data, JSON_FEED_1_1_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    ids = [item["id"] for item in data["items"]]
    assert len(ids) == len(set(ids))
    return data


def check_feed(response) -> object:
    """Validate a feed response of any of our formats; return the parsed document."""
    assert response.status_code == 200, response.content[:500]
    content_type = response["Content-Type"]
    assert content_type.endswith("; charset=utf-8")
    body = response.content
    if content_type.startswith("application/feed+json"):
        return check_json_feed(body)
    check_feedparser(body, content_type)
    if content_type.startswith("application/atom+xml"):
        return check_atom(body)
    assert content_type.startswith("application/rss+xml")
    return check_rss(body)


def item_titles(response) -> list[str]:
    """Titles of the items in a feed response of any format, as a reader would see them."""
    if response["Content-Type"].startswith("application/feed+json"):
        return [item.get("title", "") for item in json.loads(response.content)["items"]]
    return [entry.title for entry in feedparser.parse(response.content).entries]
