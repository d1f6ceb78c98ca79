"""The shared response cache: fast for the public, and never a way for hidden content out.

Each test reads through Django's test client with the real middleware stack and the
configured cache; ``X-Cache`` says whether an answer came from the cache.
"""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from wagtail.models import PageViewRestriction

from cms.models import Author
from cms.settings.base import redis_cache
from tests.cms.test_site import make_post
from tests.services import wait_until

V2 = "/api/v2/pages/"


def get_twice(client: Client, url: str, **extra):
    first = client.get(url, **extra)
    return first, client.get(url, **extra)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "post",
        "blog",
        f"{V2}?type=cms.BlogPostPage&fields=*",
        "api-detail",
        "/api/v3/pages/",
        "v3-detail",
    ],
)
def test_public_pages_and_api_reads_are_served_from_the_cache(seed, client, url):
    url = {
        "post": seed["post"].url,
        "blog": seed["blog"].url,
        "api-detail": f"{V2}{seed['post'].pk}/",
        "v3-detail": f"/api/v3/pages/{seed['post'].pk}/",
    }.get(url, url)
    first, second = get_twice(client, url)
    assert first.status_code == second.status_code == 200
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["ETag"] == first["ETag"]
    # Outer middleware still runs on a hit: security headers and conditional GET.
    assert second["X-Content-Type-Options"] == "nosniff"
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


@pytest.mark.django_db
def test_a_publish_shows_at_once_in_lists_and_details(seed, client):
    blog_url, listing = seed["blog"].url, f"{V2}?type=cms.BlogPostPage"
    get_twice(client, blog_url)
    get_twice(client, listing)
    post = make_post(
        seed["blog"], "Fresh from the oven", dt.date(2026, 1, 1), Author.objects.first()
    )
    assert "Fresh from the oven" in client.get(blog_url).content.decode()
    assert "Fresh from the oven" in [item["title"] for item in client.get(listing).json()["items"]]

    get_twice(client, post.url)
    post.unpublish()
    assert client.get(post.url).status_code == 404
    assert client.get(f"{V2}{post.pk}/").status_code == 404
    assert "Fresh from the oven" not in client.get(blog_url).content.decode()


@pytest.mark.django_db
def test_a_draft_never_replaces_the_cached_public_answer(seed, client):
    post = seed["post"]
    before = get_twice(client, post.url)[1]
    post.title = "Unreviewed draft title"
    post.save_revision()
    after = client.get(post.url)
    assert after["X-Cache"] == "hit" and after.content == before.content
    assert "Unreviewed draft title" not in client.get(f"{V2}{post.pk}/").content.decode()


@pytest.mark.django_db
def test_a_page_made_private_leaves_the_cache_and_is_never_stored(seed, client):
    post = seed["post"]
    get_twice(client, post.url)
    get_twice(client, f"{V2}{post.pk}/")
    PageViewRestriction.objects.create(page=post, restriction_type="password", password="pw")
    form = client.get(post.url)
    assert "Aromatase inhibitor" not in form.content.decode()
    assert client.get(f"{V2}{post.pk}/").status_code == 404

    # A reader who knows the password sees the page, but it is not stored for others.
    restriction = PageViewRestriction.objects.get(page=post)
    insider = Client()
    unlock = f"/_util/authenticate_with_password/{restriction.pk}/{post.pk}/"
    insider.post(unlock, {"password": "pw", "return_url": post.url})
    private = insider.get(post.url)
    assert "Aromatase inhibitor" in private.content.decode()
    assert "X-Cache" not in private
    assert "Aromatase inhibitor" not in client.get(post.url).content.decode()


@pytest.mark.django_db
def test_an_expiring_page_leaves_at_its_instant_without_the_scheduler(seed, client):
    post = make_post(
        seed["blog"],
        "Short-lived notice",
        dt.date(2026, 1, 1),
        Author.objects.first(),
        expire_at=timezone.now() + dt.timedelta(seconds=2),
    )
    listing = f"{V2}?type=cms.BlogPostPage"
    assert get_twice(client, post.url)[1]["X-Cache"] == "hit"
    assert "Short-lived notice" in get_twice(client, listing)[1].content.decode()
    wait_until(lambda: client.get(post.url).status_code == 404, 10, what="the page to expire")
    assert "Short-lived notice" not in client.get(listing).content.decode()
    assert "Short-lived notice" not in client.get(seed["blog"].url).content.decode()


@pytest.mark.django_db
def test_signed_in_users_and_token_holders_bypass_the_cache(seed, client, admin_client):
    post = seed["post"]
    get_twice(client, post.url)
    for response in get_twice(admin_client, post.url):
        assert "X-Cache" not in response
    with_token = client.get(f"{V2}{post.pk}/", HTTP_AUTHORIZATION="Bearer anything")
    assert "X-Cache" not in with_token
    # What the admin saw was not stored for the public either.
    assert client.get(post.url)["X-Cache"] == "hit"
    # v3's draft version is for token holders; anonymously the live page, cached or not.
    live_title = post.title
    post.title = "Draft only editors see"
    post.save_revision()
    draft_url = f"/api/v3/pages/{post.pk}/?version=draft"
    for response in get_twice(client, draft_url):
        assert response.json()["title"] == live_title


@pytest.mark.django_db
def test_forms_with_a_csrf_token_are_never_shared(seed, client):
    from screening.models import ScreenerPage

    screener = ScreenerPage.objects.get()
    first, second = get_twice(client, screener.url)
    assert "X-Cache" not in first and "X-Cache" not in second
    other = Client().get(screener.url)
    token = 'name="csrfmiddlewaretoken" value="'
    assert token in first.content.decode()
    assert first.content != other.content  # each reader gets a token of their own


@pytest.mark.django_db
def test_a_cache_outage_only_means_no_caching(seed, client, settings):
    """Redis down: pages and the API still answer (slower), and nothing is kept locally."""
    settings.CACHES = {"default": redis_cache("redis://127.0.0.1:1/0")}  # nothing listens there
    for url in (seed["post"].url, f"{V2}{seed['post'].pk}/", "/feeds/blog/rss/"):
        first, second = get_twice(client, url)
        assert first.status_code == second.status_code == 200
        assert "Aromatase inhibitor" in second.content.decode()
        assert "X-Cache" not in first and "X-Cache" not in second
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["checks"]["cache"]["ok"] is False


def test_each_process_keeps_a_bounded_number_of_bytes(monkeypatch, settings):
    from cms import response_cache

    settings.RESPONSE_CACHE_LOCAL_BYTES = 250
    monkeypatch.setattr(response_cache, "_local", response_cache.OrderedDict())
    monkeypatch.setattr(response_cache, "_local_bytes", 0)
    for name in "abc":
        stored = response_cache.StoredResponse("g", None, 200, [], name.encode() * 100)
        response_cache._remember(name, stored)
    assert list(response_cache._local) == ["b", "c"]
    assert response_cache._local_bytes == 200
    response_cache._remember("b", response_cache.StoredResponse("g", None, 200, [], b"x"))
    assert list(response_cache._local) == ["c", "b"] and response_cache._local_bytes == 101
