"""The leak matrix: every public output × every hidden state, with the caches cold and warm.

One test per hidden state and cache mode builds the state through Wagtail's own
operations (tests/cms/leak_cases.py), then reads every public output anonymously and
collects each leak as "output × state", so one failure lists everything that leaked:

* cold: the shared cache is emptied before each anonymous request;
* warm: (a) an anonymous reader fetched every output while the content was still
  public (or before it existed), then it was hidden; (b) a signed-in superuser and,
  for password-protected pages, a visitor who passed Wagtail's password form fetched
  every output just before the anonymous reader does.

Besides HTML, the APIs and feeds, it checks the webhook outbox (rows written after the
content became hidden), the WebSub topics pinged, and that restricted files do not
download, through cms/media.py as every setting serves it.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import html5lib
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from cms.models import Author, EventResourcesPage, NewsEventsPage
from tests.cms.leak_cases import (
    PASSWORD,
    STATES,
    Canary,
    Output,
    file_urls,
    new_canary,
    outputs,
)
from tests.factories import make_post
from tests.publishing.hub import LocalHub
from tests.services import wait_until

MODES = ("cold", "warm")
#: Seconds an expiring canary stays live: long enough for the warm cache to be filled.
EXPIRY_DELAY = {"cold": 1, "warm": 6}


@pytest.fixture
def make_run_urls(settings, tmp_path):
    """Uploaded files in a temporary folder (cms/media.py serves /media/ in every setting)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def leak_site(seed, settings, make_run_urls):
    """The seed site, a WebSub hub that records pings, and an active partner."""
    from publishing.models import Partner
    from screening.models import ScreenerPage

    Partner.objects.create(name="Leak partner", endpoint_url="https://partner.example.org/hook")
    with LocalHub() as hub:
        settings.WEBSUB_HUBS = [hub.url]
        yield SimpleNamespace(
            home=seed["home"],
            blog=seed["blog"],
            post=seed["post"],
            events=seed["events"],
            event=EventResourcesPage.objects.get(year=2018),
            news=NewsEventsPage.objects.get(),
            screener=ScreenerPage.objects.get(),
            author=Author.objects.get(slug="dr-pan"),
            tag="leakmatrix",
            hub=hub,
            expiry_delay=1,
            wait_until_past=lambda instant: wait_until(
                lambda: timezone.now() > instant, 30, what="the expiry instant to pass"
            ),
        )


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def passers(canary: Canary) -> list[Client]:
    """Visitors who passed each page's password through Wagtail's own form."""
    clients = []
    for restriction, page in canary.passwords:
        visitor = Client()
        response = visitor.post(
            f"/_util/authenticate_with_password/{restriction.pk}/{page.pk}/",
            {"password": PASSWORD, "return_url": page.url},
        )
        assert response.status_code == 302, "Wagtail's password form refused the password"
        assert canary.marker in visitor.get(page.url).content.decode(), "password did not work"
        clients.append(visitor)
    return clients


def problems(output: Output, response, canary: Canary) -> list[str]:
    """What is wrong with one anonymous answer, each naming output × state."""
    where = f"{output.name} [{output.path}] × {canary.state}"
    hit = " (from the cache)" if response.get("X-Cache") == "hit" else ""
    body = body_of(response).decode(errors="replace")
    lowered = body.lower()
    shown = [needle for needle in canary.strings(own_url=output.kind == "own") if needle in lowered]
    found = [f"{where}: shows {', '.join(map(repr, shown))}{hit}"] if shown else []
    status = response.status_code
    if status >= 500:
        found.append(f"{where}: answered {status}")
    if output.kind == "own":
        login = status == 302 and "login" in response.get("Location", "")
        password_form = status in (200, 401, 403) and 'name="password"' in body
        is_html = not output.path.startswith("/api/")
        if not (status == 404 or (is_html and (login or password_form))):
            found.append(f"{where}: answered {status}{hit}, not 404 (or a login/password page)")
    elif output.kind == "live" and status != 200:
        found.append(f"{where}: a live page answered {status}")
    elif output.kind == "redirect":
        location = response.get("Location", "").lower()
        found += [
            f"{where}: redirects to {needle!r}" for needle in canary.strings() if needle in location
        ]
    return found


def webhook_problems(after_pk: int, canary: Canary) -> list[str]:
    """Outbox rows written once the content was hidden: no hidden content in any of them.

    A ``page.unpublished`` event may name (id, type, title, url) a page partners were
    told about while it was public; nothing more.
    """
    from publishing.models import WebhookEvent

    identifying = {"id", "type", "title", "url"}
    announced = set(
        WebhookEvent.objects.exclude(type=WebhookEvent.Type.UNPUBLISHED).values_list(
            "page_id", flat=True
        )
    )
    found = []
    for event in WebhookEvent.objects.filter(pk__gt=after_pk).order_by("pk"):
        where = f"webhook payload {event.type} of page {event.page_id} × {canary.state}"
        text = json.dumps(event.data, ensure_ascii=False).lower()
        if event.type == WebhookEvent.Type.UNPUBLISHED:
            if set(event.data) - identifying:
                found.append(f"{where}: carries {sorted(set(event.data) - identifying)}")
            if event.page_id in announced:
                continue
        found += [f"{where}: shows {needle!r}" for needle in canary.strings() if needle in text]
    return found


def websub_problems(hub: LocalHub, after: int, canary: Canary) -> list[str]:
    topics = [ping["url"].lower() for ping in hub.pings[after:]]
    return [
        f"WebSub topic {topic} × {canary.state}: names {needle!r}"
        for topic in topics
        for needle in canary.strings()
        if needle in topic
    ]


def download_problems(client: Client, canary: Canary, cold: bool) -> list[str]:
    """Restricted originals, renditions and documents must not download anonymously."""
    found = []
    for url in file_urls(canary):
        if cold:
            cache.clear()
        response = client.get(url)
        content = body_of(response)
        served_file = response.status_code == 200 and (
            canary.marker.encode() in content or content.startswith(b"\x89PNG")
        )
        if served_file:
            found.append(f"file {url} × {canary.state}: downloads anonymously")
    return found


def fetch_all(client: Client, items: list[Output]) -> None:
    for output in items:
        output.fetch(client)


@pytest.mark.django_db
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", list(STATES))
def test_hidden_content_never_reaches_anonymous_clients(
    leak_site, admin_client, django_capture_on_commit_callbacks, state, mode
):
    from publishing.models import WebhookEvent

    site = leak_site
    site.expiry_delay = EXPIRY_DELAY[mode]
    canary = new_canary(state, site.tag)
    setup, hide = STATES[state]
    anonymous = Client()

    with django_capture_on_commit_callbacks(execute=True):
        setup(site, canary)
    if mode == "warm":  # (a) the public version, cached by an anonymous reader
        fetch_all(anonymous, outputs(site, canary))
    last_event = WebhookEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    pings = len(site.hub.pings)

    with django_capture_on_commit_callbacks(execute=True):
        hide(site, canary)
    items = outputs(site, canary)
    if mode == "warm":  # (b) privileged readers just before the anonymous one
        for privileged in [admin_client, *passers(canary)]:
            fetch_all(privileged, items)

    leaks: list[str] = []
    for output in items:
        if mode == "cold":
            cache.clear()
        leaks += problems(output, output.fetch(anonymous), canary)
    if mode == "warm":  # again: what the anonymous reads just stored is served now
        for output in items:
            if output.method == "get":
                leaks += problems(output, output.fetch(anonymous), canary)
    leaks = list(dict.fromkeys(leaks))  # the second read repeats what the first found
    leaks += webhook_problems(last_event, canary)
    leaks += websub_problems(site.hub, pings, canary)
    leaks += download_problems(anonymous, canary, cold=mode == "cold")
    assert not leaks, f"{len(leaks)} leak(s) of {canary.marker} ({mode} cache):\n" + "\n".join(
        leaks
    )


# --- JSON-LD --------------------------------------------------------------------------------

BREAKOUT_TITLE = "x<!--<script>y"


@pytest.mark.django_db
def test_a_title_cannot_break_out_of_the_json_ld_script(seed, client):
    """``<!--<script>`` inside a script element puts the HTML parser in its "double
    escaped" state: everything after it, up to a second ``</script>``, stays script text
    and the page renders blank. The JSON must escape ``<`` (and ``>`` and ``&``)."""
    post = make_post(
        seed["blog"],
        BREAKOUT_TITLE,
        dt.date(2030, 1, 2),
        Author.objects.get(slug="dr-pan"),
        slug="breakout",
    )
    response = client.get(post.url)
    assert response.status_code == 200
    tree = html5lib.parse(response.content, treebuilder="etree", namespaceHTMLElements=False)
    scripts = [s for s in tree.iter("script") if s.get("type") == "application/ld+json"]
    assert len(scripts) == 1
    text = scripts[0].text or ""
    assert "site-footer" not in text, "the rest of the page was swallowed by the JSON-LD script"
    assert text.rstrip().endswith("}")
    data = json.loads(text)
    headlines = [node.get("headline") for node in data["@graph"] if "headline" in node]
    assert headlines == [BREAKOUT_TITLE]
    footers = [f for f in tree.iter("footer") if "site-footer" in (f.get("class") or "")]
    assert footers, "the footer after the JSON-LD script is missing"
    headings = ["".join(h.itertext()) for h in tree.iter("h1")]
    assert BREAKOUT_TITLE in headings
    for raw in ("<", ">", "&"):
        assert raw not in text, f"{raw!r} left unescaped in JSON written into HTML"


def test_every_state_is_in_the_matrix():
    """The issue's hidden states, each built by a case of its own."""
    assert set(STATES) >= {
        "draft",
        "newer_draft",
        "scheduled",
        "login",
        "password",
        "restricted_ancestor",
        "expired",
        "unpublished",
        "restricted_media",
        "unpublished_parent",
        "expired_promo",
        "redirect_to_hidden",
    }
