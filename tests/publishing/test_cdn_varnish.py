"""A real CDN: Varnish with deploy/varnish/default.vcl in front of the site.

The publish order the design promises: after commit, our caches, then the CDN purge,
then notifications. Here a partner and a WebSub hub act on each notification the moment
it arrives, fetching the page, its API answer and the feed through Varnish, as anchors'
sites do; over 50 updates they never get an older version. Varnish really caches in
between (each check also sees a hit), so only the purge keeps them fresh: switching
the purge off makes the same fetch stale, which the last test shows.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection, CollectionViewRestriction, Site

from cms.models import HomePagePromo, Promo, ReaderTrustSettings
from publishing.models import CdnPurge, Delivery
from publishing.pipeline.tasks import sweep_purges
from tests.publishing.publish import publish_title
from tests.services import Varnish, WebServer

pytestmark = pytest.mark.django_db(transaction=True)

UPDATES = 50


@pytest.fixture
def varnish(live_server, tmp_path):
    server = Varnish(urlsplit(live_server.url).port, tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def cdn_site(seed, varnish, settings):
    """The site's public address is Varnish's, and the pipeline purges it."""
    serve_through(varnish, settings)
    return seed


def serve_through(varnish: Varnish, settings) -> None:
    """Make ``varnish`` the default site's address and the pipeline's purge target."""
    backend = "publishing.pipeline.purge.HTTPPurgeBackend"
    settings.WAGTAILFRONTENDCACHE = {"varnish": {"BACKEND": backend, "LOCATION": varnish.url}}
    site = Site.objects.get(is_default_site=True)
    site.hostname, site.port = "127.0.0.1", varnish.port
    site.save()  # (not .update(): Wagtail drops its cached site root paths on save)


class Partner:
    """Fetches what a notification names, through the CDN, before answering it."""

    def __init__(self, varnish: Varnish) -> None:
        self.varnish = varnish
        self.seen: list[dict] = []
        self.lock = threading.Lock()

    def fetch(self, url: str) -> requests.Response:
        response = requests.get(url, timeout=10)
        assert urlsplit(url).port == self.varnish.port, f"{url} is not through the CDN"
        return response

    def on_webhook(self, item) -> None:
        payload = json.loads(item.body)
        if payload.get("type") != "page.updated":
            return
        data = payload["data"]
        page = self.fetch(data["url"])
        api = self.fetch(f"{self.varnish.url}/api/v2/pages/{data['id']}/")
        with self.lock:
            self.seen.append(
                {
                    "kind": "webhook",
                    "title": data["title"],
                    "page_fresh": data["title"] in page.text,
                    "api_title": api.json()["title"],
                }
            )

    def on_ping(self, item) -> None:
        topic = parse_qs(item.body.decode())["hub.url"][0]
        if not topic.endswith("/feeds/blog/json/"):
            return
        feed = self.fetch(topic).json()
        with self.lock:
            self.seen.append({"kind": "ping", "titles": [i["title"] for i in feed["items"]]})


def test_partners_fetch_the_new_version_through_varnish_on_every_notification(
    cdn_site, varnish, receivers, make_partner, settings
):
    partner = Partner(varnish)
    make_partner(receivers(on_receive=partner.on_webhook))
    hub = receivers(on_receive=partner.on_ping)
    settings.WEBSUB_HUBS = [hub.url]
    post = cdn_site["post"]
    publish_title(post, "Before the updates")  # announced as published; partners start fetching

    for n in range(UPDATES):
        title = f"Exercise during chemotherapy, revision {n}"
        partner.seen.clear()
        publish_title(post, title)

        kinds = sorted(seen["kind"] for seen in partner.seen)
        assert kinds == ["ping", "webhook"], partner.seen
        webhook = next(seen for seen in partner.seen if seen["kind"] == "webhook")
        assert webhook == {
            "kind": "webhook",
            "title": title,
            "page_fresh": True,
            "api_title": title,
        }
        ping = next(seen for seen in partner.seen if seen["kind"] == "ping")
        assert title in ping["titles"]
        # The CDN really holds what the partner just fetched: only a purge refreshes it.
        again = requests.get(f"{varnish.url}/api/v2/pages/{post.pk}/", timeout=10)
        assert again.headers["X-CDN-Cache"] == "hit" and again.json()["title"] == title


def test_without_the_purge_the_same_fetch_is_stale(cdn_site, varnish, settings):
    """The control: the CDN caches, so freshness above is the purge's doing."""
    post = cdn_site["post"]
    publish_title(post, "Cached title")
    url = f"{varnish.url}/api/v2/pages/{post.pk}/"
    assert requests.get(url, timeout=10).json()["title"] == "Cached title"
    settings.WAGTAILFRONTENDCACHE = {}
    publish_title(post, "Title nobody purged")
    stale = requests.get(url, timeout=10)
    assert stale.headers["X-CDN-Cache"] == "hit" and stale.json()["title"] == "Cached title"


def change_while_the_cdn_is_down(varnish, receiver, post) -> tuple[CdnPurge, int]:
    """Announce the post, stop Varnish, change it: the purge fails and the webhook is held."""
    publish_title(post, "Announced before the outage")
    received = len(receiver.received)
    varnish.stop()
    publish_title(post, "Changed while the CDN is down")
    assert len(receiver.received) == received  # held: the purge did not succeed
    record = CdnPurge.objects.get()
    assert record.state == CdnPurge.State.RETRYING and record.delivery_ids
    held = Delivery.objects.get(pk=record.delivery_ids[0])
    assert held.state == Delivery.State.PENDING and held.attempts == 0
    # Not even the delivery sweeper sends it before the bound.
    assert held.next_attempt_at > timezone.now() + timedelta(seconds=60)
    return record, received


def test_a_failed_purge_holds_the_notifications_until_a_retry_succeeds(
    cdn_site, varnish, receivers, make_partner, settings, client
):
    """The CDN is down: nobody is told yet, /healthz says why; once it is back, both go."""
    partner = Partner(varnish)
    receiver = receivers(on_receive=partner.on_webhook)
    make_partner(receiver)
    post = cdn_site["post"]
    record, received = change_while_the_cdn_is_down(varnish, receiver, post)
    health = client.get("/healthz").json()["checks"]["cdn_purge"]
    assert health == {"ok": False, "retrying": 1, "gave_up": 0}

    varnish.start()
    CdnPurge.objects.update(next_attempt_at=record.created_at)  # due now
    sweep_purges()
    record.refresh_from_db()
    assert record.state == CdnPurge.State.PURGED
    assert len(receiver.received) == received + 1
    assert partner.seen[-1]["page_fresh"] and partner.seen[-1]["api_title"] == post.title
    assert client.get("/healthz").json()["checks"]["cdn_purge"]["ok"] is True


def test_notifications_wait_a_bounded_time_for_a_purge_that_keeps_failing(
    cdn_site, varnish, receivers, make_partner, settings, client
):
    receiver = receivers()
    make_partner(receiver)
    record, received = change_while_the_cdn_is_down(varnish, receiver, cdn_site["post"])

    CdnPurge.objects.update(next_attempt_at=record.created_at)  # a retry is due...
    sweep_purges()
    assert CdnPurge.objects.get().state == CdnPurge.State.RETRYING  # ...and fails again
    assert len(receiver.received) == received

    settings.FRONTEND_CACHE_MAX_WAIT_SECONDS = 0  # the bound has passed
    CdnPurge.objects.update(next_attempt_at=record.created_at)
    sweep_purges()
    record.refresh_from_db()
    assert record.state == CdnPurge.State.GAVE_UP and record.attempts == 3
    assert len(receiver.received) == received + 1
    assert client.get("/healthz").json()["checks"]["cdn_purge"] == {
        "ok": False,
        "retrying": 0,
        "gave_up": 1,
    }


# --- Changes that are not a page's own publish, through the CDN ---------------------------


def cached(url: str) -> requests.Response:
    """Fetch twice: the second answer must come from Varnish, so only a purge refreshes it."""
    requests.get(url, timeout=10)
    again = requests.get(url, timeout=10)
    assert again.headers.get("X-CDN-Cache") == "hit", (url, again.status_code, dict(again.headers))
    return again


def through(varnish: Varnish, path: str) -> str:
    return path if path.startswith("http") else f"{varnish.url}{path}"


@pytest.fixture
def app_cdn(seed, celery_env, settings, tmp_path):
    """Varnish in front of gunicorn, the site's address and purge target: files are
    served by the app's own view (cms/media.py), not the test server's file handler."""
    server = WebServer(dict(celery_env), tmp_path).start()
    cdn = None
    try:
        server.wait_ready()
        (tmp_path / "cdn").mkdir()
        cdn = Varnish(server.port, tmp_path / "cdn").start()
        serve_through(cdn, settings)
        yield cdn
    finally:
        if cdn is not None:
            cdn.stop()
        server.stop()


@pytest.mark.services
def test_files_in_a_collection_made_private_leave_the_cdn_at_once(app_cdn):
    # A transactional test's flush takes the root collection migrations made.
    root = Collection.get_first_root_node() or Collection.add_root(name="Root")
    collection = root.add_child(name="Staff only")
    image = get_image_model().objects.create(
        title="Portrait", file=get_test_image_file("portrait.png"), collection=collection
    )
    rendition = image.get_rendition("fill-80x80")
    document = get_document_model().objects.create(
        title="Handout",
        file=ContentFile(b"handout body", name="handout.txt"),
        collection=collection,
    )
    files = (image.file.url, rendition.file.url, document.file.url)
    urls = [through(app_cdn, path) for path in files]
    for url in urls:
        assert cached(url).status_code == 200

    CollectionViewRestriction.objects.create(
        collection=collection, restriction_type=CollectionViewRestriction.LOGIN
    )
    for url in urls:
        response = requests.get(url, timeout=10)
        assert response.status_code == 404, (url, response.headers.get("X-CDN-Cache"))
    assert b"handout body" not in requests.get(urls[2], timeout=10).content


def test_reader_settings_reach_every_page_through_the_cdn_at_once(cdn_site, varnish):
    pages = [cdn_site["home"], cdn_site["post"], cdn_site["events"]]
    urls = [through(varnish, page.url) for page in pages]
    for url in urls:
        assert "555 0199" not in cached(url).text
    trust = ReaderTrustSettings.for_site(Site.objects.get(is_default_site=True))
    trust.phone = "+1 408 555 0199"
    trust.save()
    for url in urls:
        response = requests.get(url, timeout=10)
        assert "555 0199" in response.text, (url, response.headers.get("X-CDN-Cache"))


def test_a_promotion_taken_down_leaves_the_home_page_in_the_cdn_at_once(cdn_site, varnish):
    promo = Promo(title="Flu clinic this week", text="Walk in, no appointment.", live=False)
    promo.save()
    promo.save_revision().publish()
    home = cdn_site["home"].specific
    home.refresh_from_db()
    home.promos = [*home.promos.all(), HomePagePromo(promo=promo)]
    home.save_revision().publish()
    url = through(varnish, home.url)
    assert "Flu clinic this week" in cached(url).text

    promo.refresh_from_db()
    promo.unpublish()
    response = requests.get(url, timeout=10)
    assert "Flu clinic this week" not in response.text, response.headers.get("X-CDN-Cache")
