"""The shared response cache keeps only answers that are the same for every visitor.

Through Django's test client and the real middleware stack, on whichever cache the
settings configure (the database cache by default, Redis with ``REDIS_URL``). Entries are
counted in the cache backend itself, not through the module under test.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test import Client
from django.utils.cache import cc_delim_re
from django_redis.cache import RedisCache
from wagtail.models import PageViewRestriction

from cms import response_cache
from cms.models import Author
from tests.cms.test_site import make_post

V2 = "/api/v2/pages/"
V3 = "/api/v3/pages/"
SECRET = "Password-only tumour board minutes"


def stored_entries() -> list[str]:
    """Keys of stored responses in the shared cache (not the token or budget counters)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        prefix = "responses:"
        keys = list(cache.iter_keys(prefix + "*", itersize=1000))
    elif isinstance(cache, DatabaseCache):
        prefix = cache.make_key("responses:")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT cache_key FROM {cache._table} WHERE cache_key LIKE %s",  # noqa: S608
                [prefix + "%"],
            )
            keys = [row[0] for row in cursor.fetchall()]
    else:
        pytest.skip(f"cannot list the keys of {type(cache).__name__}")
    names = [key[len(prefix) :] for key in keys]
    return [name for name in names if name != "generation" and not name.startswith("bytes:")]


def directives(response) -> set[str]:
    return {
        part.split("=")[0].strip().lower()
        for part in cc_delim_re.split(response.get("Cache-Control", ""))
        if part.strip()
    }


def vary(response) -> set[str]:
    return {part.strip().lower() for part in cc_delim_re.split(response.get("Vary", ""))}


def assert_private(response) -> None:
    """Neither our cache nor a shared cache in front may keep this answer."""
    assert "X-Cache" not in response
    assert "private" in directives(response) and "public" not in directives(response)
    assert "cookie" in vary(response)


@pytest.fixture
def restricted(seed):
    """A live post behind a password, and the URL of Wagtail's password form for it."""
    post = make_post(seed["blog"], SECRET, dt.date(2026, 2, 1), Author.objects.first())
    restriction = PageViewRestriction.objects.create(
        page=post, restriction_type="password", password="pw"
    )
    unlock = f"/_util/authenticate_with_password/{restriction.pk}/{post.pk}/"
    return post, unlock


@pytest.mark.django_db
def test_a_password_session_never_fills_the_cache_for_anonymous_readers(restricted):
    post, unlock = restricted
    urls = {
        "v2 detail": f"{V2}{post.pk}/",
        "v3 detail": f"{V3}{post.pk}/",
        "v3 list": V3,
        "v2 list": V2,
        "html": post.url,
    }
    insider = Client()
    unlocked = insider.post(unlock, {"password": "pw", "return_url": post.url})
    assert unlocked.status_code == 302 and unlocked["Location"] == post.url
    page = insider.get(post.url)
    assert SECRET in page.content.decode()  # Wagtail's password form did let them in
    for url in urls.values():
        for response in (insider.get(url), insider.get(url)):
            assert response.status_code in (200, 404), url
            assert_private(response)
    assert stored_entries() == []

    # Another reader, anonymous: nothing of what the insider saw, from the cache or not.
    for _ in range(2):
        outsider = Client()
        for name, url in urls.items():
            response = outsider.get(url)
            body = response.content.decode()
            assert SECRET not in body, name
            assert response.get("X-Cache") != "hit" or SECRET not in body
        assert outsider.get(urls["v2 detail"]).status_code == 404
        assert outsider.get(urls["v3 detail"]).status_code == 404
        assert SECRET not in outsider.get(post.url).content.decode()


@pytest.mark.django_db
def test_a_signed_in_editor_never_fills_the_cache(seed, admin_client, client):
    post = seed["post"]
    urls = [
        post.url,
        seed["blog"].url,
        V2,
        f"{V2}{post.pk}/",
        V3,
        f"{V3}{post.pk}/",
        f"{V3}{post.pk}/?version=draft",
    ]
    post.title = "Unreviewed draft an editor may see"
    post.save_revision()
    for url in urls:
        for response in (admin_client.get(url), admin_client.get(url)):
            assert response.status_code == 200, url
            assert_private(response)
    assert stored_entries() == []
    # Nothing was kept for the public: each URL is a miss for the first anonymous reader.
    for url in urls:
        response = client.get(url)
        assert response["X-Cache"] == "miss", url
        assert "Unreviewed draft an editor may see" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("cookie", ["sessionid", "csrftoken", "messages", "_ga", ""])
def test_any_cookie_disables_the_cache(seed, cookie):
    post = seed["post"]
    urls = [post.url, f"{V2}{post.pk}/", V3]
    with_cookie = Client(HTTP_COOKIE=f"{cookie}=anything" if cookie else "no-equals-sign")
    for url in urls:
        for response in (with_cookie.get(url), with_cookie.get(url)):
            assert response.status_code == 200
            assert_private(response)
    assert stored_entries() == []
    # And it is not served what anonymous readers stored either.
    anonymous = Client()
    for url in urls:
        assert [anonymous.get(url)["X-Cache"] for _ in range(2)] == ["miss", "hit"]
        assert_private(with_cookie.get(url))


@pytest.mark.django_db
def test_an_allowed_cookie_shares_only_answers_that_ignore_cookies(seed, settings):
    """With a cookie on the allow-list, a response that varies on Cookie is still kept out."""
    settings.RESPONSE_CACHE_ALLOWED_COOKIES = ["theme", "sessionid", "csrftoken"]
    themed = Client(HTTP_COOKIE="theme=dark")
    detail = f"{V3}{seed['post'].pk}/"
    assert [themed.get(detail)["X-Cache"] for _ in range(2)] == ["miss", "hit"]
    # Pages read the user (Wagtail's user bar), so they vary on Cookie: not for them.
    blog = seed["blog"].url
    page = themed.get(blog)
    assert "cookie" in vary(page) and "X-Cache" not in page
    assert [Client().get(blog)["X-Cache"] for _ in range(2)] == ["miss", "hit"]
    assert "X-Cache" not in themed.get(blog)  # that entry varies on Cookie
    # Once a page has a password, the API still never reads the session (cms.api_public
    # reads every API request as anonymous): the answer is the same for everyone, and
    # shared, without the password-protected page.
    post = make_post(seed["blog"], SECRET, dt.date(2026, 2, 1), Author.objects.first())
    PageViewRestriction.objects.create(page=post, restriction_type="password", password="pw")
    listings = [themed.get(V3) for _ in range(2)]
    assert [listing["X-Cache"] for listing in listings] == ["miss", "hit"]
    assert SECRET not in listings[1].content.decode()
    # The session and CSRF cookies are never allowed, whatever the setting says.
    for cookie in ("sessionid=abc", "csrftoken=abc", "theme=dark; other=1"):
        assert_private(Client(HTTP_COOKIE=cookie).get(detail))


@pytest.mark.django_db
def test_an_authorization_header_disables_the_cache(seed, client):
    post = seed["post"]
    urls = [post.url, V2, f"{V2}{post.pk}/", V3, f"{V3}{post.pk}/"]
    for url in urls:
        for response in (
            client.get(url, HTTP_AUTHORIZATION="Bearer not-a-token"),
            client.get(url, HTTP_AUTHORIZATION="Basic Zm9vOmJhcg=="),
        ):
            assert "X-Cache" not in response, url
            assert "private" in directives(response), url
            assert "authorization" in vary(response), url
    assert stored_entries() == []
    for url in urls:
        client.get(url)
        assert "X-Cache" not in client.get(url, HTTP_AUTHORIZATION="Bearer not-a-token")


@pytest.mark.django_db
def test_unknown_query_parameters_never_create_entries(seed, client):
    post = seed["post"]
    for n in range(200):
        response = client.get(f"/?junk={n}")
        assert response.status_code == 200
        assert "X-Cache" not in response
    for n in range(30):
        for url, status in (
            (f"{V3}?junk={n}", 200),
            (f"{V3}{post.pk}/?junk={n}", 200),
            (f"{V2}{post.pk}/?junk={n}", 200),
            (f"{V2}?junk={n}", 400),
            (f"{post.url}?page={n}", 200),  # a post has no pages
            (f"{V2}?_={n}", 200),  # jQuery's cache buster: a new URL every time
        ):
            response = client.get(url)
            assert response.status_code == status, url
            assert "X-Cache" not in response, url
    assert stored_entries() == []
    assert [client.get("/")["X-Cache"] for _ in range(2)] == ["miss", "hit"]
    assert len(stored_entries()) == 1


@pytest.mark.django_db
def test_understood_query_parameters_are_cached_under_one_normalised_key(seed, client):
    blog = seed["blog"].url
    first = client.get(f"{blog}?tag=breast-cancer&page=1")
    again = client.get(f"{blog}?page=1&tag=breast-cancer")
    assert (first["X-Cache"], again["X-Cache"]) == ("miss", "hit")
    assert again.content == first.content
    assert client.get(f"{blog}?page=2&tag=breast-cancer")["X-Cache"] == "miss"
    for url in (
        f"{V2}?type=cms.BlogPostPage&fields=*",
        f"{V2}?fields=*&type=cms.BlogPostPage",
        f"{V3}?type=cms.BlogPostPage&limit=5",
        f"{V3}?limit=5&type=cms.BlogPostPage",
        f"{V3}{seed['post'].pk}/?version=live",
        f"{V2}{seed['post'].pk}/?fields=title",
    ):
        assert client.get(url).status_code == 200
    assert client.get(f"{V2}?type=cms.BlogPostPage&fields=*")["X-Cache"] == "hit"
    assert client.get(f"{V3}?type=cms.BlogPostPage&limit=5")["X-Cache"] == "hit"
    assert len(stored_entries()) == 6


@pytest.mark.django_db
def test_the_byte_budget_stops_storing_but_every_answer_is_served(seed, client, settings):
    settings.RESPONSE_CACHE_MAX_BYTES = 40_000
    settings.RESPONSE_CACHE_TIMEOUT = 10**6  # one budget window for the whole test
    stored_bytes, misses = 0, 0
    for offset in range(60):
        response = client.get(f"{V3}?limit=2&offset={offset}")
        assert response.status_code == 200
        if response.get("X-Cache") == "miss":
            misses += 1
            stored_bytes += len(response.content) + response_cache.ENTRY_OVERHEAD
    entries = stored_entries()
    assert 0 < len(entries) == misses < 60
    assert stored_bytes <= settings.RESPONSE_CACHE_MAX_BYTES
    # The counter in the shared cache went past the budget: that is what stopped it.
    assert response_cache.bytes_stored_this_window() > settings.RESPONSE_CACHE_MAX_BYTES
    # Past the budget, pages still answer, from the view, and say nothing is stored.
    page = client.get(seed["blog"].url)
    assert page.status_code == 200 and "X-Cache" not in page
    assert len(stored_entries()) == len(entries)


@pytest.mark.django_db
def test_a_body_over_the_entry_cap_is_served_but_not_stored(seed, client, settings):
    settings.RESPONSE_CACHE_MAX_ENTRY_BYTES = 1000
    page = client.get(seed["post"].url)
    assert page.status_code == 200 and len(page.content) > 1000
    assert "X-Cache" not in page and "X-Cache" not in client.get(seed["post"].url)
    small = client.get(f"{V2}{seed['post'].pk}/?fields=_,title")
    assert small.status_code == 200 and len(small.content) < 1000, len(small.content)
    assert small["X-Cache"] == "miss"
    assert len(stored_entries()) == 1


@pytest.mark.django_db
def test_public_answers_say_public_and_vary_on_cookie(seed, client):
    """What a CDN or Varnish in front sees: public for all, keyed away from cookies."""
    for url in (seed["post"].url, V2, f"{V3}{seed['post'].pk}/"):
        for response in (client.get(url), client.get(url)):
            assert {"public", "max-age", "must-revalidate"} <= directives(response)
            assert {"cookie", "authorization"} <= vary(response)
