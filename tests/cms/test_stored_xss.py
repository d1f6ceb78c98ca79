"""Stored XSS: content carrying script payloads stays inert in every output.

Editors' forms and the v3 write API already clean rich text and validate URLs, but content
also arrives from code, imports and old revisions, so the payloads here are saved directly
on the models, bypassing every form. What is right differs per output:

- HTML pages (and HTML carried inside feeds and webhook payloads) are markup a browser
  runs: no ``<script>`` except JSON-LD whose text is one valid JSON document, no ``on*``
  attribute, no ``javascript:`` (or ``vbscript:``/``data:``) URL, no ``svg``/``iframe``/
  ``object``; plain-text fields show as text.
- API and webhook JSON is data: a title containing ``<script>`` is returned as written
  (escaping is the consumer's job, as for any string), served as ``application/json``
  with ``nosniff`` so no browser renders it as HTML. But rich-text fields *are* HTML that
  partners insert as such: they must hold nothing executable, and URL fields nothing
  that runs when followed.
- Feeds are XML: well-formed, titles as text, embedded HTML checked as HTML.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import urlencode

import html5lib
import pytest
from defusedxml import ElementTree as ET

from cms.models import (
    Author,
    BlogPostAuthor,
    BlogPostPage,
    BlogPostReference,
    EventResource,
    EventResourcesPage,
    EventSession,
)
from tests.screening.conftest import publish_items

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = '"><svg onload=alert(1)>'
PAYLOAD = f"{SCRIPT}{IMG}{SVG}"
TITLE = f"Payload post </script>{PAYLOAD}"
EVENT_TITLE = f"Payload event </script>{PAYLOAD}"
RICH_TEXT = (
    f"<p>Intro {SCRIPT}{IMG}<svg onload=alert(1)></svg>"
    '<a href="javascript:alert(1)">js link</a> '
    '<a href=" java&#x09;script:alert(1)">tab link</a> '
    '<a href="https://example.org/ok" onclick="alert(1)">ok link</a>'
    "<iframe src=javascript:alert(1)></iframe></p>"
)
JS_URL = "javascript:alert(1)"
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

EXECUTABLE_ELEMENTS = {"script", "svg", "iframe", "object", "embed", "frame", "math", "style"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}
BAD_SCHEME = re.compile(r"^(javascript|vbscript|data):", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def assert_inert(markup: str, *, document: bool = True, where: str = "") -> str:
    """Parse ``markup`` as a browser would (html5lib) and fail on anything that can run.

    Returns the text content, so callers can check the payload arrived as text.
    """
    if document:
        tree = html5lib.parse(markup, treebuilder="etree", namespaceHTMLElements=False)
    else:
        tree = html5lib.parseFragment(markup, treebuilder="etree", namespaceHTMLElements=False)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue  # comments
        tag = _local(element.tag)
        if tag == "script":
            assert element.get("type") == "application/ld+json", f"{where}: script element"
            json.loads(element.text or "")  # one intact JSON document: nothing broke out
            continue
        assert tag not in EXECUTABLE_ELEMENTS, f"{where}: <{tag}> element"
        for name, value in element.attrib.items():
            attribute = _local(name)
            assert not attribute.startswith("on"), f"{where}: {attribute}= on <{tag}>"
            if attribute in URL_ATTRIBUTES:
                assert not BAD_SCHEME.match(CONTROL.sub("", value)), f"{where}: {value!r}"
    return "".join(tree.itertext())


def json_ld_documents(html: str) -> list[dict]:
    tree = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    return [json.loads(s.text) for s in tree.iter("script")]


@pytest.fixture
def hostile(seed):
    """A blog post, an event page and the screener carrying payloads in every field a
    reader or partner sees, saved on the models directly (no form cleaned them), and a
    partner, so publishing builds a webhook payload."""
    from publishing.models import Partner
    from screening.models import ScreenerPage

    Partner.objects.create(name="Partner", endpoint_url="https://partner.example.org/hook")
    author = Author.objects.create(
        name=f"Dr. Payload {PAYLOAD}", slug="dr-payload", credentials=SVG, bio=RICH_TEXT
    )
    post = BlogPostPage(
        title=TITLE,
        slug="payload-post",
        date=dt.date(2030, 1, 1),
        summary=f"Lead {PAYLOAD}",
        body=[
            ("paragraph", RICH_TEXT),
            ("quote", {"text": f"Quote {PAYLOAD}", "attribution": PAYLOAD}),
            ("heading", {"text": f"Heading {PAYLOAD}", "level": "h2"}),
        ],
        live=False,
    )
    post.post_authors = [BlogPostAuthor(author=author)]
    post.references = [BlogPostReference(title=f"Ref {PAYLOAD}", url=JS_URL, note=PAYLOAD)]
    seed["blog"].add_child(instance=post)
    post.tags.add(f"tag {PAYLOAD}")
    post.save_revision().publish()

    event = EventResourcesPage(
        title=EVENT_TITLE,
        slug="payload-event",
        year=2031,
        theme=PAYLOAD,
        teaser=f"Teaser {PAYLOAD}",
        place=PAYLOAD,
        intro=RICH_TEXT,
        live=False,
    )
    event.sessions = [
        EventSession(
            title=f"Session {PAYLOAD}", speaker=PAYLOAD, video_url=JS_URL, slides_url=JS_URL
        )
    ]
    event.resources = [EventResource(title=f"Resource {PAYLOAD}", url=JS_URL, note=PAYLOAD)]
    seed["events"].add_child(instance=event)
    event.save_revision().publish()

    screener = ScreenerPage.objects.get()
    screener.question = f"Question {PAYLOAD}"
    screener.disclaimer = RICH_TEXT
    items = [item["value"] for item in screener.items.raw_data]
    # Through the helper that re-points combination rules at a re-worded item.
    publish_items(
        screener,
        [item["urgency"] for item in items],
        [f"Item {PAYLOAD}", *(item["text"] for item in items[1:])],
    )
    return {
        "post": BlogPostPage.objects.get(pk=post.pk),
        "event": EventResourcesPage.objects.get(pk=event.pk),
        "screener": ScreenerPage.objects.get(pk=screener.pk),
    }


def assert_json_response(response) -> dict:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    return response.json()


def assert_page_data_inert(data: dict, where: str) -> None:
    """Rich text is HTML partners insert: nothing executable. URLs: nothing that runs.
    Plain strings are data and come back exactly as stored."""
    kind = data["meta"]["type"]
    if not data["title"].startswith("Payload") and kind != "screening.ScreenerPage":
        # Seed pages next to the hostile ones in a list: their rich text is checked too.
        for block in data.get("body", []):
            if block["type"] == "paragraph":
                assert_inert(block["value"], document=False, where=f"{where} seed body")
        if data.get("intro"):
            assert_inert(data["intro"], document=False, where=f"{where} seed intro")
        return
    if kind == "cms.BlogPostPage":
        assert data["title"] == TITLE
        for block in data["body"]:
            if block["type"] == "paragraph":
                text = assert_inert(block["value"], document=False, where=f"{where} body")
                assert "js link" in text and "ok link" in text
        for author in data["authors"]:
            assert_inert(author["bio"], document=False, where=f"{where} bio")
        assert [ref["url"] for ref in data["references"]] == [""]
        assert data["references"][0]["title"] == f"Ref {PAYLOAD}"
    elif kind == "cms.EventResourcesPage":
        assert data["title"] == EVENT_TITLE
        assert_inert(data["intro"], document=False, where=f"{where} intro")
        assert [(s["video_url"], s["slides_url"]) for s in data["sessions"]] == [("", "")]
        assert [r["url"] for r in data["resources"]] == [""]
    elif kind == "screening.ScreenerPage":
        assert data["question"] == f"Question {PAYLOAD}"
        assert_inert(data["disclaimer"], document=False, where=f"{where} disclaimer")


def check_html(hostile, client) -> None:
    """Reader pages, the search page (results and the reflected query), JSON-LD, sitemap."""
    pages = {
        "post": hostile["post"].url,
        "event": hostile["event"].url,
        "screener": hostile["screener"].url,
        "blog index": hostile["post"].get_parent().url,
        "events index": hostile["event"].get_parent().url,
        "home": "/",
        "search results": "/search/?query=Payload",
        "search query": "/search/?" + urlencode({"query": f"Payload {SVG}{SCRIPT}"}),
    }
    for where, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, where
        text = assert_inert(response.content.decode(), where=where)
        assert SCRIPT in text, f"{where}: the payload should show, as text"

    documents = json_ld_documents(client.get(hostile["post"].url).content.decode())
    assert len(documents) == 1
    assert TITLE in [node.get("headline") for node in documents[0]["@graph"]]

    root = ET.fromstring(client.get("/sitemap.xml").content)
    locations = [loc.text for loc in root.iter(f"{SITEMAP}loc")]
    assert any(loc.endswith("/payload-post/") for loc in locations)
    assert all(loc.startswith("http://testserver/") and "<" not in loc for loc in locations)


def check_api(hostile, client) -> None:
    """v2 and v3 detail of each page; v2 lists with every field, in both HTML formats."""
    for version in ("v2", "v3"):
        for which in ("post", "event", "screener"):
            response = client.get(f"/api/{version}/pages/{hostile[which].pk}/")
            assert_page_data_inert(assert_json_response(response), f"{version} {which}")
    for kind in ("cms.BlogPostPage", "cms.EventResourcesPage"):
        for rich_text_format in ("db_html", "html"):
            query = {"type": kind, "fields": "*", "rich_text_format": rich_text_format}
            items = assert_json_response(client.get("/api/v2/pages/", query))["items"]
            assert len([item for item in items if item["title"].startswith("Payload")]) == 1
            for item in items:
                assert_page_data_inert(item, f"v2 list {kind} {rich_text_format}")


def check_feeds(hostile, client) -> None:
    """RSS and Atom are well-formed XML with titles as text; every item's HTML is inert."""
    for kind, expected in (("blog", TITLE), ("events", EVENT_TITLE)):
        for fmt in ("rss", "atom", "json"):
            response = client.get(f"/feeds/{kind}/{fmt}/")
            assert response.status_code == 200
            if fmt == "json":
                items = [(i["title"], i["content_html"]) for i in response.json()["items"]]
            else:
                root = ET.fromstring(response.content)
                if fmt == "rss":
                    items = [
                        (i.findtext("title"), i.findtext(f"{CONTENT}encoded"))
                        for i in root.iter("item")
                    ]
                else:
                    items = [
                        (e.findtext(f"{ATOM}title"), e.findtext(f"{ATOM}content"))
                        for e in root.iter(f"{ATOM}entry")
                    ]
            assert expected in [title for title, _ in items], f"{kind} {fmt}"
            for title, html in items:
                text = assert_inert(html, document=False, where=f"{kind} {fmt} {title[:20]}")
                if title == expected:
                    assert SCRIPT in text, f"{kind} {fmt}"


def check_webhook(hostile, client) -> None:
    """The body exactly as the sender signs and posts it (``delivery.body_for``)."""
    from publishing.models import Delivery
    from publishing.webhooks.delivery import body_for

    for which in ("post", "event"):
        page = hostile[which]
        delivery = Delivery.objects.filter(event__page_id=page.pk).latest("pk")
        data = json.loads(body_for(delivery))["data"]
        assert data["title"] == page.title  # data, for the partner to escape
        text = assert_inert(data["html"], document=False, where=f"webhook {which}")
        assert SCRIPT in text
        assert data["url"].startswith("http://testserver/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "check", [check_html, check_api, check_feeds, check_webhook], ids=lambda f: f.__name__[6:]
)
def test_hostile_content_is_inert(hostile, client, check):
    """One output family per case; each loops over its URLs (the fixture costs seconds)."""
    check(hostile, client)


def test_the_checker_itself_catches_each_payload():
    """The assertions above would fail on raw payloads (so passing means something)."""
    for raw in (SCRIPT, IMG, SVG, '<a href=" java&#x09;script:alert(1)">x</a>', RICH_TEXT):
        with pytest.raises(AssertionError):
            assert_inert(raw, document=False)
    breakout = f'<script type="application/ld+json">{{"a": "</script>{SCRIPT}"}}</script>'
    with pytest.raises((AssertionError, ValueError)):
        assert_inert(breakout)
