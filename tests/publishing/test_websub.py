"""WebSub: hubs announced on feeds, and pinged (after commit, with retries) on every change."""

import datetime as dt
import json

import feedparser
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from wagtail.models import PageViewRestriction

from cms.models import Author, BlogPostPage
from tests.cms.test_site import make_post
from tests.publishing.feed_checks import item_titles
from tests.publishing.hub import LocalHub, closed_port_url
from tests.services import wait_until

FORMATS = ("rss", "atom", "json")
ROOT = "http://testserver"


def topics(*paths):
    return {f"{ROOT}/feeds/{path}/{fmt}/" for path in paths for fmt in FORMATS}


SEED_TOPICS = topics(
    "blog",
    "blog/tag/breast-cancer",
    "blog/tag/aromatase-inhibitors",
    "blog/author/dr-pan",
    "blog/author/dr-lee",
)


@pytest.fixture
def hub(settings):
    with LocalHub() as server:
        settings.WEBSUB_HUBS = [server.url]
        yield server


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_feeds_announce_each_hub_and_exactly_one_self_topic(seed, client, settings, fmt):
    settings.WEBSUB_HUBS = ["https://hub-one.example/", "https://hub-two.example/"]
    response = client.get(f"/feeds/blog/{fmt}/")
    links = [part.strip() for part in response["Link"].split(",")]
    assert links == [
        '<https://hub-one.example/>; rel="hub"',
        '<https://hub-two.example/>; rel="hub"',
        f'<{ROOT}/feeds/blog/{fmt}/>; rel="self"',
    ]
    if fmt == "json":
        assert json.loads(response.content)["hubs"] == [
            {"type": "WebSub", "url": "https://hub-one.example/"},
            {"type": "WebSub", "url": "https://hub-two.example/"},
        ]
    else:
        parsed = feedparser.parse(response.content)
        in_body = [link.href for link in parsed.feed.links if link.rel == "hub"]
        assert in_body == ["https://hub-one.example/", "https://hub-two.example/"]
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [
            f"{ROOT}/feeds/blog/{fmt}/"
        ]


@pytest.mark.django_db
def test_no_hubs_by_default(seed, client, settings):
    assert settings.WEBSUB_HUBS == []
    response = client.get("/feeds/events/json/")
    assert response["Link"] == f'<{ROOT}/feeds/events/json/>; rel="self"'
    assert "hubs" not in json.loads(response.content)


@pytest.mark.django_db
def test_publish_update_and_unpublish_ping_every_affected_topic(seed, hub, on_commit, client):
    pan = Author.objects.get(slug="dr-pan")
    post = on_commit(
        make_post, seed["blog"], "Diet and exercise", dt.date(2024, 1, 1), pan, tags=["Diet"]
    )
    expected = topics("blog", "blog/tag/diet", "blog/author/dr-pan")
    assert hub.topics() == expected
    assert {ping["mode"] for ping in hub.pings} == {"publish"}
    assert hub.pings[0]["content_type"] == "application/x-www-form-urlencoded"
    assert "Diet and exercise" in item_titles(client.get("/feeds/blog/tag/diet/atom/"))

    # An update that drops a tag pings the tag feed the post just left, too.
    hub.pings.clear()
    post.tags.set(["Exercise"])
    on_commit(post.save_revision().publish)
    assert hub.topics() == topics(
        "blog", "blog/tag/diet", "blog/tag/exercise", "blog/author/dr-pan"
    )
    assert "Diet and exercise" not in item_titles(client.get("/feeds/blog/tag/diet/atom/"))

    hub.pings.clear()
    on_commit(post.unpublish)
    assert hub.topics() == topics("blog", "blog/tag/exercise", "blog/author/dr-pan")

    hub.pings.clear()
    on_commit(seed["events"].get_children().first().specific.save_revision().publish)
    assert hub.topics() == topics("events")


@pytest.mark.django_db
def test_privacy_changes_ping_and_rolled_back_publishes_do_not(seed, hub, on_commit):
    on_commit(PageViewRestriction.objects.create, page=seed["post"], restriction_type="login")
    assert hub.topics() == SEED_TOPICS

    hub.pings.clear()
    pan = Author.objects.get(slug="dr-pan")

    def publish_then_fail():
        with transaction.atomic():
            make_post(seed["blog"], "Rolled back", dt.date(2024, 1, 1), pan)
            raise RuntimeError("rollback")

    with pytest.raises(RuntimeError):
        on_commit(publish_then_fail)
    assert hub.pings == []
    assert not BlogPostPage.objects.filter(title="Rolled back").exists()


@pytest.mark.django_db
def test_scheduled_publish_and_expiry_ping_the_hub(seed, hub, on_commit, client, monkeypatch):
    pan = Author.objects.get(slug="dr-pan")
    post = make_post(seed["blog"], "Scheduled post", dt.date(2024, 1, 1), pan, publish=False)
    post.go_live_at = timezone.now() + dt.timedelta(hours=1)
    revision = post.save_revision()
    on_commit(revision.publish)
    assert not BlogPostPage.objects.get(pk=post.pk).live and hub.pings == []
    # The time comes (moved, rather than waited for).
    later = timezone.now() + dt.timedelta(hours=1, seconds=1)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        on_commit(call_command, "publish_scheduled")
    assert BlogPostPage.objects.get(pk=post.pk).live
    assert hub.topics() == topics("blog", "blog/author/dr-pan")
    assert "Scheduled post" in item_titles(client.get("/feeds/blog/rss/"))

    hub.pings.clear()
    BlogPostPage.objects.filter(pk=post.pk).update(expire_at=timezone.now())
    on_commit(call_command, "publish_scheduled")  # Wagtail's own expiry run
    assert not BlogPostPage.objects.get(pk=post.pk).live
    assert hub.topics() == topics("blog", "blog/author/dr-pan")
    assert "Scheduled post" not in item_titles(client.get("/feeds/blog/rss/"))


@pytest.mark.django_db
def test_a_scheduled_update_that_drops_a_tag_pings_the_tag_feed_it_left(
    seed, hub, on_commit, monkeypatch
):
    """The previous publish may have been the scheduler's (``wagtail.publish.scheduled``)."""
    pan = Author.objects.get(slug="dr-pan")
    post = make_post(seed["blog"], "Sleep", dt.date(2024, 1, 1), pan, tags=["Rest"], publish=False)
    for tags in (["Rest"], ["Exercise"]):
        post.tags.set(tags)
        post.go_live_at = timezone.now() + dt.timedelta(hours=1)
        on_commit(post.save_revision().publish)
        hub.pings.clear()
        later = timezone.now() + dt.timedelta(hours=1, seconds=1)
        with monkeypatch.context() as patch:
            patch.setattr(timezone, "now", lambda at=later: at)
            on_commit(call_command, "publish_scheduled")
        post = BlogPostPage.objects.get(pk=post.pk)
        assert post.live and list(post.tags.names()) == tags
    assert hub.topics() == topics(
        "blog", "blog/tag/rest", "blog/tag/exercise", "blog/author/dr-pan"
    )


@pytest.mark.django_db
def test_a_hub_that_is_down_never_blocks_publishing(seed, settings, on_commit, client, caplog):
    with LocalHub() as good_hub:
        settings.WEBSUB_HUBS = [closed_port_url(), good_hub.url]
        pan = Author.objects.get(slug="dr-pan")
        post = on_commit(make_post, seed["blog"], "Still published", dt.date(2024, 1, 1), pan)
        assert post.live
        assert "Still published" in item_titles(client.get("/feeds/blog/json/"))
        assert good_hub.topics() == topics("blog", "blog/author/dr-pan")


@pytest.mark.services
def test_real_worker_pings_a_real_hub_after_commit(
    celery_processes, celery_env, seed, settings, client
):
    """Publish in this process; the real worker, via the real broker, pings the local hub."""
    with LocalHub(fail_first=1) as hub:
        settings.WEBSUB_HUBS = [hub.url]
        celery_env["WEBSUB_HUBS"] = hub.url
        worker = celery_processes("worker")
        pan = Author.objects.get(slug="dr-pan")
        make_post(seed["blog"], "Worker pinged", dt.date(2024, 1, 1), pan)
        wait_until(
            lambda: hub.topics() >= topics("blog", "blog/author/dr-pan"),
            60,
            what="the worker to ping the hub (after one 503 and a retry)",
        )
        assert hub.refused == 1
        assert "Worker pinged" in item_titles(client.get("/feeds/blog/atom/"))
        assert "publishing.syndication.websub.ping_hub" in worker.output()


@pytest.mark.services
def test_real_worker_publish_is_not_blocked_by_a_dead_hub(
    celery_processes, celery_env, seed, settings, client
):
    dead = closed_port_url()
    settings.WEBSUB_HUBS = [dead]
    celery_env["WEBSUB_HUBS"] = dead
    worker = celery_processes("worker")
    pan = Author.objects.get(slug="dr-pan")
    make_post(seed["blog"], "Published anyway", dt.date(2024, 1, 1), pan)
    assert "Published anyway" in item_titles(client.get("/feeds/blog/rss/"))
    wait_until(lambda: "Retry in" in worker.output(), 60, what="the worker to schedule a retry")


@pytest.mark.django_db
def test_deleting_a_live_post_removes_it_and_pings(seed, hub, on_commit, client):
    pan = Author.objects.get(slug="dr-pan")
    post = on_commit(make_post, seed["blog"], "Soon deleted", dt.date(2024, 1, 1), pan)
    assert "Soon deleted" in item_titles(client.get("/feeds/blog/author/dr-pan/rss/"))
    hub.pings.clear()
    on_commit(post.delete)
    assert hub.topics() == topics("blog", "blog/author/dr-pan")
    assert "Soon deleted" not in item_titles(client.get("/feeds/blog/author/dr-pan/rss/"))
