"""Page passwords: wrong guesses are limited per client and per page, like admin logins."""

from __future__ import annotations

import datetime as dt
import logging
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from freezegun import freeze_time
from wagtail.models import PageViewRestriction

from cms.page_passwords import client_key
from cms.settings.base import redis_cache

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret"  # noqa: S105 - a test page's password
BODY = "Aromatase inhibitor"  # text of the seed post, shown only past the password
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def limits(settings):
    settings.PAGE_PASSWORD_FAILURE_LIMIT = 3
    settings.PAGE_PASSWORD_PAGE_FAILURE_LIMIT = 5
    settings.PAGE_PASSWORD_COOLOFF = 600
    return settings


@pytest.fixture
def protected(seed, limits):
    post = seed["post"]
    restriction = PageViewRestriction.objects.create(
        page=post, restriction_type=PageViewRestriction.PASSWORD, password=PASSWORD
    )
    return post, restriction


def visitor(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def submit(client: Client, page, password: str):
    """Open the page, read Wagtail's password form from it, and post it as a browser would."""
    form_page = client.get(page.url).content.decode()
    assert BODY not in form_page
    action = re.search(r'<form action="([^"]+)" method="POST">', form_page).group(1)
    return_url = re.search(r'name="return_url" value="([^"]*)"', form_page).group(1)
    return client.post(unescape(action), {"password": password, "return_url": unescape(return_url)})


def assert_locked(response, minutes: int) -> None:
    assert response.status_code == 429
    content = response.content.decode()
    unit = "minute" if minutes == 1 else "minutes"
    assert f"Too many wrong passwords for this page; try again in {minutes} {unit}." in content
    assert 0 < int(response["Retry-After"]) <= minutes * 60
    assert "no-store" in response["Cache-Control"]
    assert "Traceback" not in content and 'File "' not in content
    assert "<h1>" in content  # the site's own page, not a bare error


def test_the_right_password_opens_the_page(protected):
    post, _ = protected
    alice = visitor("198.51.100.7")
    response = submit(alice, post, PASSWORD)
    assert response.status_code == 302 and response.url == post.url
    assert BODY in alice.get(post.url).content.decode()


def test_wrong_guesses_lock_the_client_out_even_with_the_right_password(protected, caplog):
    post, _ = protected
    mallory = visitor("198.51.100.66")
    with caplog.at_level(logging.WARNING, logger="cms.page_passwords"):
        for _attempt in range(3):
            wrong = submit(mallory, post, "guess")
            assert wrong.status_code == 200 and "Password required" in wrong.content.decode()
        locked = submit(mallory, post, PASSWORD)
    assert_locked(locked, 10)
    assert BODY not in mallory.get(post.url).content.decode()
    lines = [r.getMessage() for r in caplog.records if "lock-out" in r.getMessage()]
    assert len(lines) == 1 and "198.51.100.66" not in lines[0]
    # The count is kept under a keyed hash of the address, never the address itself.
    hashed = client_key(RequestFactory().get("/", REMOTE_ADDR="198.51.100.66"))
    assert "198.51.100.66" not in hashed
    assert cache.get(f"page-password:client:{hashed}:{protected[1].pk}") == 3

    # Someone else on the same page is not locked by one client's guesses.
    alice = visitor("198.51.100.7")
    assert submit(alice, post, PASSWORD).status_code == 302


def test_right_passwords_are_not_counted(protected):
    post, _ = protected

    def alice() -> Client:
        # One address; a fresh session each time, as the password is kept per session.
        return visitor("198.51.100.7")

    for _attempt in range(5):
        assert submit(alice(), post, PASSWORD).status_code == 302
    for _attempt in range(2):
        assert submit(alice(), post, "typo").status_code == 200
    assert submit(alice(), post, PASSWORD).status_code == 302  # resets her count, as axes does
    for _attempt in range(2):
        assert submit(alice(), post, "typo").status_code == 200
    assert submit(alice(), post, PASSWORD).status_code == 302


def test_a_page_guessed_from_many_addresses_locks_for_everyone(protected, caplog):
    post, _ = protected
    with caplog.at_level(logging.WARNING, logger="cms.page_passwords"):
        # Five wrong guesses on the page, none more than two from one address.
        for address, guesses in (("203.0.113.1", 2), ("203.0.113.2", 2), ("203.0.113.3", 1)):
            attacker = visitor(address)
            for _attempt in range(guesses):
                assert submit(attacker, post, "guess").status_code == 200
    lines = [r.getMessage() for r in caplog.records if "lock-out" in r.getMessage()]
    assert len(lines) == 1 and "all clients" in lines[0]
    newcomer = visitor("198.51.100.7")
    assert_locked(submit(newcomer, post, PASSWORD), 10)


def test_the_cool_off_ends(protected):
    post, _ = protected
    mallory = visitor("198.51.100.66")
    with freeze_time(T0):
        for _attempt in range(3):
            submit(mallory, post, "guess")
    with freeze_time(T0 + dt.timedelta(minutes=9, seconds=30)):
        assert_locked(submit(mallory, post, PASSWORD), 1)
    with freeze_time(T0 + dt.timedelta(minutes=10, seconds=1)):
        assert submit(mallory, post, PASSWORD).status_code == 302
        assert BODY in mallory.get(post.url).content.decode()


def test_the_cool_off_counts_from_the_last_wrong_guess(protected):
    post, _ = protected
    mallory = visitor("198.51.100.66")
    with freeze_time(T0):
        submit(mallory, post, "guess")
    with freeze_time(T0 + dt.timedelta(minutes=8)):
        submit(mallory, post, "guess")
        submit(mallory, post, "guess")
        # The third wrong guess came within ten minutes of the second: locked.
        assert_locked(submit(mallory, post, PASSWORD), 10)


def test_an_unknown_restriction_is_a_404_and_not_a_guess(protected):
    post, restriction = protected
    mallory = visitor("198.51.100.66")
    for _attempt in range(5):
        missing = mallory.post(
            f"/_util/authenticate_with_password/{restriction.pk + 100}/{post.pk}/",
            {"password": "x", "return_url": "/"},
        )
        assert missing.status_code == 404
    assert submit(mallory, post, PASSWORD).status_code == 302


def test_changing_the_page_id_in_the_url_buys_no_more_guesses(protected, seed):
    post, restriction = protected
    mallory = visitor("198.51.100.66")
    for page in (post, seed["blog"], seed["home"]):
        mallory.post(
            f"/_util/authenticate_with_password/{restriction.pk}/{page.pk}/",
            {"password": "guess", "return_url": "/"},
        )
    assert_locked(submit(mallory, post, PASSWORD), 10)


def test_a_cache_outage_leaves_the_form_working(protected, settings):
    """Redis down: nothing can be counted, so the form works unlimited rather than failing."""
    settings.CACHES = {"default": redis_cache("redis://127.0.0.1:1/0")}  # nothing listens there
    post, _ = protected
    mallory = visitor("198.51.100.66")
    for _attempt in range(4):
        assert submit(mallory, post, "guess").status_code == 200
    assert submit(mallory, post, PASSWORD).status_code == 302
