"""The publish pipeline without a CDN process: one flush per transaction, in order.

The real CDN (Varnish) is in test_cdn_varnish.py; here the steps are observed directly.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from cms import response_cache
from publishing.pipeline import purge, steps
from publishing.syndication import cache as feed_cache
from publishing.webhooks import events
from tests.publishing.publish import publish_title

pytestmark = pytest.mark.django_db

FAKE_CDN = {
    "cdn": {"BACKEND": "publishing.pipeline.purge.HTTPPurgeBackend", "LOCATION": "http://x"}
}


@pytest.fixture
def journal(monkeypatch, settings):
    """What the after-commit steps did, in order (the CDN and the senders stubbed)."""
    calls: list[str] = []
    settings.WAGTAILFRONTENDCACHE = FAKE_CDN
    settings.WEBSUB_HUBS = ["http://hub.invalid/"]
    real_replace = response_cache._generation.replace
    real_feeds = feed_cache._generation.replace

    def bump() -> None:
        calls.append("responses")
        real_replace()

    def bump_feeds() -> None:
        calls.append("feeds")
        real_feeds()

    monkeypatch.setattr(response_cache._generation, "replace", bump)
    monkeypatch.setattr(feed_cache._generation, "replace", bump_feeds)
    monkeypatch.setattr(purge, "purge", lambda urls: calls.append("purge"))
    monkeypatch.setattr(steps, "enqueue_pings", lambda topics: calls.append("ping"))
    monkeypatch.setattr(events, "enqueue", lambda ids: calls.append("webhook"))
    return calls


def test_a_publish_runs_each_step_once_in_order(
    seed, journal, receivers, make_partner, django_capture_on_commit_callbacks
):
    make_partner(receivers())
    with django_capture_on_commit_callbacks(execute=True):
        publish_title(seed["post"], "A new title")
    assert journal == ["responses", "feeds", "purge", "ping", "webhook"]


def test_one_bump_for_a_transaction_of_many_changes(
    seed, journal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for n in range(3):
            publish_title(seed["post"], f"Title {n}")
        seed["blog"].save_revision().publish()
    assert journal.count("responses") == 1 and journal.count("purge") == 1


def test_a_rolled_back_publish_runs_nothing(seed, journal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            publish_title(seed["post"], "Never committed")
            raise RuntimeError("rollback")
    assert journal == []


def test_the_changing_transaction_reads_its_own_change_and_others_wait_for_commit(seed, client):
    """No bump before commit, yet the editor's own connection never gets the old answer."""
    url = f"/api/v2/pages/{seed['post'].pk}/"
    assert client.get(url)["X-Cache"] == "miss"
    assert client.get(url)["X-Cache"] == "hit"
    shared = response_cache._generation.current()
    publish_title(seed["post"], "Seen at once by this connection")
    assert response_cache._generation.current() == shared  # not bumped before commit
    answer = client.get(url)
    assert answer.json()["title"] == "Seen at once by this connection"
    assert response_cache.generation() != shared


def test_without_a_cdn_nothing_is_held(settings):
    settings.WAGTAILFRONTENDCACHE = {}
    assert not purge.configured()
    assert steps.hold_until() <= timezone.now()


def test_a_failing_purge_shows_on_the_admin_dashboard(admin_client):
    from publishing.models import CdnPurge

    assert "CDN purges failing" not in admin_client.get("/admin/").content.decode()
    CdnPurge.objects.create(urls=["http://x/"], last_error="cdn answered 503", attempts=2)
    page = admin_client.get("/admin/").content.decode()
    assert "CDN purges failing" in page and "cdn answered 503" in page


@pytest.mark.django_db(transaction=True)
def test_a_bare_publish_in_autocommit_flushes_once(seed, journal):
    """``revision.publish()`` from code, outside any transaction: the page save and the
    publish are one change, so one flush (not one per autocommitted write)."""
    post = seed["post"]
    post.title = "Published from code"
    post.save_revision().publish()
    assert journal.count("responses") == 1 and journal.count("purge") == 1, journal
    journal.clear()
    post.unpublish()
    assert journal.count("responses") == 1 and journal.count("purge") == 1, journal


def test_urls_are_read_after_commit_and_a_page_deleted_meanwhile_keeps_its_own(
    seed, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """A publish's URLs (the page's, its ancestors', its API answers) are read once the
    transaction commits, for all its pages at once; a page deleted in the same transaction
    is gone by then, so its URLs are read before its rows go."""
    from cms.models import Author, BlogPostPage
    from tests.factories import make_post

    settings.WAGTAILFRONTENDCACHE = FAKE_CDN
    purged: list[set[str]] = []
    monkeypatch.setattr(purge, "purge", lambda urls: purged.append(set(urls)))
    post, blog = seed["post"], seed["blog"]
    doomed = make_post(blog, "Here briefly", post.date, Author.objects.first())
    doomed_url, doomed_pk = doomed.full_url, doomed.pk
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish_title(post, "Read after commit")
        publish_title(doomed, "Gone before commit")
        BlogPostPage.objects.get(pk=doomed_pk).delete()
    assert len(purged) == 1
    urls = purged[0]
    root = blog.full_url.split("/", 3)[:3]
    assert {post.full_url, blog.full_url, doomed_url} <= urls
    assert f"{'/'.join(root)}/api/v2/pages/{post.pk}/" in urls
    assert f"{'/'.join(root)}/api/v3/pages/{doomed_pk}/" in urls


def test_an_author_change_purges_their_live_posts_and_listings(
    seed, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """A byline shows on each of the author's posts and on the blog's listing: renaming
    the author purges those, not only the feeds."""
    from cms.models import Author
    from tests.factories import make_post

    settings.WAGTAILFRONTENDCACHE = FAKE_CDN
    purged: list[set[str]] = []
    monkeypatch.setattr(purge, "purge", lambda urls: purged.append(set(urls)))
    author = Author.objects.get(slug="dr-lee")
    draft = make_post(seed["blog"], "Not yet public", seed["post"].date, author, publish=False)
    with django_capture_on_commit_callbacks(execute=True):
        author.name = "Dr. Lee, MD"
        author.save()
    assert len(purged) == 1
    urls = purged[0]
    assert {seed["post"].full_url, seed["blog"].full_url} <= urls
    assert not any(draft.url_path.rstrip("/").rsplit("/", 1)[-1] in url for url in urls)
