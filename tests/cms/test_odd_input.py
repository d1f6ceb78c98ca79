"""Odd input gets a 400 that names the problem and one short log line, never a 500.

Every parser of a client's number (API offset and limit, v2 ``find/?id``, a feed's
``?page``, the screener's page id) and every search box, against the inputs that once
crashed them: digits that are not 0-9 (``str.isdigit()`` accepts "²"), numbers too large
for the database, NUL bytes, lone surrogates, and searches of hundreds of words (the
search backend's RecursionError, with half a megabyte of traceback per request).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from urllib.parse import quote, urlsplit

import pytest
from wagtail.models import Page

from cms.params import MAX_ID, InvalidNumber, parse_int
from cms.search import MAX_WORD_LENGTH, MAX_WORDS, parse_search, search_terms

# Values as they appear in a URL (already percent-encoded where they are not ASCII).
HOSTILE_NUMBERS = {
    "superscript two": quote("²"),
    "arabic-indic three": quote("٣"),
    "fullwidth one": quote("１"),
    "negative": "-1",
    "forty nines": "9" * 40,
    "five thousand nines": "9" * 5000,
    "empty": "",
    "NUL": "%00",
    "lone surrogate (as UTF-8 bytes)": "%ED%A0%80",
    "decimal": "1.5",
    "exponent": "1e3",
    "padded": "%201",
}
WORDS_450 = " ".join(f"word{n}" for n in range(450))
WORDS_5000 = " ".join(f"word{n}" for n in range(5000))
#: A request's log: one "Bad Request: <path>" line, with time, level, logger and id.
MAX_LOG_BYTES = 300


def assert_quiet_log(caplog) -> None:
    """At most one short line per request, and no traceback anywhere in it."""
    assert len(caplog.text) < MAX_LOG_BYTES, caplog.text[:1000]
    assert "Traceback" not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)
    assert len(caplog.records) <= 1


# --- the helper itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("0", 0), ("7", 7), ("007", 7), ("2147483647", MAX_ID)]
)
def test_parse_int_reads_ascii_digits(value, expected):
    assert parse_int(value, name="n") == expected


@pytest.mark.parametrize(
    "value",
    ["²", "٣", "１", "-1", "+1", "", " 1", "1 ", "1.0", "1e3", "\x00", "\ud800", "0x10", None],
)
def test_parse_int_refuses_anything_but_ascii_digits(value):
    with pytest.raises(InvalidNumber) as caught:
        parse_int(value, name="offset")
    assert str(caught.value) == "“offset” must be a whole number of 0 or more."
    assert caught.value.name == "offset"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("value", ["11", "9" * 40, "0" * 5 + "9" * 40])
def test_parse_int_refuses_numbers_above_the_maximum(value):
    with pytest.raises(InvalidNumber, match="“limit” must be at most 10."):
        parse_int(value, name="limit", maximum=10)


def test_parse_int_refuses_numbers_below_the_minimum():
    with pytest.raises(InvalidNumber, match="“page” must be a whole number of 1 or more."):
        parse_int("0", name="page", minimum=1)


def test_parse_int_is_fast_on_a_megabyte_of_digits():
    """int() of more than 4,300 digits raises (Python's limit); the length is checked first."""
    started = time.monotonic()
    with pytest.raises(InvalidNumber):
        parse_int("9" * 1_000_000, name="n")
    assert parse_int("0" * 1_000_000 + "1", name="n") == 1
    assert time.monotonic() - started < 1.0


# --- search terms --------------------------------------------------------------------


def test_search_terms_keep_the_first_words_and_cut_long_ones():
    terms = parse_search(WORDS_5000)
    assert terms.words == tuple(f"word{n}" for n in range(MAX_WORDS))
    assert terms.too_many_words and terms.truncated
    long = parse_search("pain " + "x" * 1000 + " fever")
    assert long.words == ("pain", "x" * MAX_WORD_LENGTH, "fever")
    assert long.word_too_long and not long.too_many_words
    assert not parse_search('"Arimidex"! and tamoxifen').truncated
    assert search_terms(WORDS_5000).split() == [f"word{n}" for n in range(MAX_WORDS)]
    assert len(search_terms("a" * 10_000 + " b" * 10_000)) <= MAX_WORDS * (MAX_WORD_LENGTH + 1)


@pytest.mark.django_db
@pytest.mark.parametrize("operator", ["and", "or"])
def test_the_backend_searches_three_times_the_cap_without_recursing(seed, operator):
    """The cap keeps a margin below the depth where the backend's recursion fails.

    With Python's default limit of 1,000 frames that depth was near 430 words on SQLite
    and between 128 and 160 on PostgreSQL; three times the cap is searched here on the
    database the suite runs on.
    """
    words = ["Arimidex"] + ["y" * MAX_WORD_LENGTH] * (3 * MAX_WORDS - 1)
    results = Page.objects.live().search(" ".join(words), operator=operator)
    titles = [page.title for page in results[:20]]
    assert results.count() == (1 if operator == "or" else 0)
    assert titles == ([seed["post"].title] if operator == "or" else [])


# --- API offset and limit ------------------------------------------------------------

LIST_ENDPOINTS = [
    "/api/v2/pages/",
    "/api/v2/images/",
    "/api/v2/documents/",
    "/api/v3/pages/",
    "/api/v3/images/",
    "/api/v3/documents/",
    "/api/v3/redirects/",
    "/api/v3/sites/",
    "/api/changes/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", LIST_ENDPOINTS)
@pytest.mark.parametrize("param", ["offset", "limit"])
@pytest.mark.parametrize("value", HOSTILE_NUMBERS.values(), ids=HOSTILE_NUMBERS.keys())
def test_api_offset_and_limit(client, db, caplog, endpoint, param, value):
    response = client.get(f"{endpoint}?{param}={value}")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert f"“{param}”" in body["message"] or f"'{param}' contains a NUL" in body["message"]
    assert_quiet_log(caplog)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v2/pages/?offset=%C2%B2", "“offset” must be a whole number of 0 or more."),
        ("/api/v3/pages/?limit=%C2%B2", "“limit” must be a whole number of 0 or more."),
        ("/api/v3/pages/?offset=" + "9" * 40, "“offset” must be at most 1000000000."),
        # The last of repeated values is the one Wagtail reads; every one is checked.
        ("/api/v2/pages/?limit=%C2%B2&limit=1", "“limit” must be a whole number of 0 or more."),
    ],
)
def test_api_number_messages_say_what_is_accepted(client, db, url, message):
    response = client.get(url)
    assert response.status_code == 400
    assert response.json() == {"message": message, "status": 400}


@pytest.mark.django_db
def test_ascii_offsets_and_limits_still_page(client, seed):
    first = client.get("/api/v2/pages/?limit=2&offset=0").json()["items"]
    second = client.get("/api/v2/pages/?limit=2&offset=01").json()["items"]
    assert len(first) == 2 and first[1]["id"] == second[0]["id"]


# --- v2 find ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [v for k, v in HOSTILE_NUMBERS.items() if k != "NUL"] + ["0"],
    ids=[k for k in HOSTILE_NUMBERS if k != "NUL"] + ["zero"],
)
def test_v2_find_id(client, db, caplog, value):
    response = client.get(f"/api/v2/pages/find/?id={value}")
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("“id” must be ")
    assert_quiet_log(caplog)


@pytest.mark.django_db
def test_v2_find_by_ascii_id_still_redirects(client, seed):
    response = client.get(f"/api/v2/pages/find/?id={seed['post'].pk}")
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == f"/api/v2/pages/{seed['post'].pk}/"


# --- feeds -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
@pytest.mark.parametrize(
    "value", [*HOSTILE_NUMBERS.values(), "0"], ids=[*HOSTILE_NUMBERS.keys(), "zero"]
)
def test_feed_page(client, db, caplog, fmt, value):
    response = client.get(f"/feeds/blog/{fmt}/?page={value}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error in (
        "“page” must be a whole number of 1 or more.",
        "“page” must be at most 1000000.",
    )
    assert_quiet_log(caplog)


@pytest.mark.django_db
def test_feed_page_in_ascii_digits_is_served(client, seed):
    assert client.get("/feeds/blog/rss/?page=01").status_code == 200


# --- the screener API ------------------------------------------------------------------


@pytest.fixture
def screener(seed):
    from screening.models import ScreenerPage

    return ScreenerPage.objects.get()


def _evaluate(client, page_id, body: bytes):
    return client.post(
        f"/api/screening/{page_id}/evaluate/", data=body, content_type="application/json"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [v for k, v in HOSTILE_NUMBERS.items() if k != "empty"] + ["0", "abc", str(MAX_ID + 1)],
    ids=[k for k in HOSTILE_NUMBERS if k != "empty"] + ["zero", "letters", "past int32"],
)
def test_screener_page_id(client, db, caplog, value):
    response = _evaluate(client, value, b'{"answers": []}')
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_page_id"
    assert "“page_id”" in body["detail"]
    assert_quiet_log(caplog)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b'{"answers": ["\\ud800"]}',
        b'{"answers": ["ok", "\\udfff"]}',
        b'{"answers": [], "\\ud800": 1}',
        b'{"\\udbff\\udbff": []}',
    ],
    ids=["answer", "second answer", "extra field name", "only field name"],
)
def test_screener_lone_surrogates(client, screener, caplog, body):
    response = _evaluate(client, screener.pk, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_unicode"
    assert "lone surrogate" in response.json()["detail"]
    assert_quiet_log(caplog)


@pytest.mark.django_db
def test_screener_surrogate_pair_is_an_ordinary_unknown_answer(client, screener):
    """A correctly escaped pair is one character (😀): text, not an encoding error."""
    response = _evaluate(client, screener.pk, b'{"answers": ["\\ud83d\\ude00"]}')
    assert response.status_code == 400
    assert response.json()["error"] != "invalid_unicode"
    assert response.json()["unknown_answers"] == ["😀"]


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [100, 999, 2000])
def test_screener_deeply_nested_json(client, screener, caplog, depth):
    """json.loads raises RecursionError near 1,000 levels, which a 4 KB body can hold."""
    response = _evaluate(client, screener.pk, b"[" * depth + b"]" * depth)
    assert response.status_code in (400, 413)
    assert response.json()["error"] in ("invalid_json", "invalid_body", "body_too_large")
    assert_quiet_log(caplog)


# --- search ----------------------------------------------------------------------------

SEARCH_ENDPOINTS = [
    "/api/v2/pages/",
    "/api/v2/images/",
    "/api/v2/documents/",
    "/api/v3/pages/",
    "/api/v3/images/",
    "/api/v3/documents/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", SEARCH_ENDPOINTS)
@pytest.mark.parametrize("operator", ["and", "or"])
@pytest.mark.parametrize("words", [WORDS_450, WORDS_5000], ids=["450 words", "5000 words"])
def test_api_search_of_too_many_words(client, db, caplog, endpoint, operator, words):
    response = client.get(endpoint, {"search": words, "search_operator": operator})
    assert response.status_code == 400
    assert response.json() == {
        "message": f"“search” must have at most {MAX_WORDS} words.",
        "status": 400,
    }
    assert_quiet_log(caplog)


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["/api/v2/pages/", "/api/v3/pages/"])
def test_api_search_of_an_overlong_word(client, db, caplog, endpoint):
    response = client.get(endpoint, {"search": "Arimidex " + "x" * (MAX_WORD_LENGTH + 1)})
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"Each word of “search” must be at most {MAX_WORD_LENGTH} characters."
    )
    assert_quiet_log(caplog)


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["/api/v2/pages/", "/api/v3/pages/"])
def test_api_search_at_the_limits_finds_the_post(client, seed, endpoint):
    words = ["Arimidex"] + ["y" * MAX_WORD_LENGTH] * (MAX_WORDS - 1)
    response = client.get(endpoint, {"search": " ".join(words), "search_operator": "or"})
    assert response.status_code == 200
    assert [item["title"] for item in response.json()["items"]] == [seed["post"].title]


@pytest.mark.django_db
@pytest.mark.parametrize("words", [450, 5000])
def test_site_search_of_many_words_searches_the_first_and_says_so(client, seed, caplog, words):
    """Every word must match (the backend's default operator is "and"): the first 32 do."""
    query = " ".join(["Arimidex", "treatment"] * (words // 2)) + " nomatch"
    response = client.get("/search/", {"query": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert seed["post"].title in html
    assert f"Only the first {MAX_WORDS} words of your search were used" in html
    # The box holds what was searched, not the whole query.
    searched = " ".join(["Arimidex", "treatment"] * (MAX_WORDS // 2))
    assert f'value="{searched}"' in html
    assert len(html) < 20_000
    assert caplog.text == ""


@pytest.mark.django_db
def test_site_search_of_an_overlong_word_says_so(client, seed, caplog):
    response = client.get("/search/", {"query": "x" * 5000})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"each up to {MAX_WORD_LENGTH} letters" in html
    assert f'value="{"x" * MAX_WORD_LENGTH}"' in html
    assert "x" * (MAX_WORD_LENGTH + 1) not in html
    assert caplog.text == ""


@pytest.mark.django_db
def test_site_search_of_a_few_words_has_no_note(client, seed):
    html = client.get("/search/", {"query": '"Arimidex"!'}).content.decode()
    assert seed["post"].title in html
    assert "Only the first" not in html
    assert 'value="&quot;Arimidex&quot;!"' in html


# --- reader pages: lenient, never a 500 -------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("value", HOSTILE_NUMBERS.values(), ids=HOSTILE_NUMBERS.keys())
def test_reader_pagination_shows_a_page(client, seed, caplog, value):
    """The blog and search pages keep Django's paginator: a bad ``?page`` shows page one
    (or the last), as a reader following an old link expects."""
    caplog.set_level(logging.INFO)
    for url in (f"{seed['blog'].url}?page={value}", f"/search/?query=Arimidex&page={value}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert seed["post"].title in response.content.decode()
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# --- a partner's answer -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "1²", "٣"])
def test_a_partners_retry_after_in_other_digits_is_ignored(value):
    """Not a client's request, but the same trap: a header is decoded as Latin-1, so a
    partner's byte 0xB2 reads as "²", and float("²") raised where post() must not."""
    from publishing.webhooks.delivery import parse_retry_after

    assert parse_retry_after(value, dt.datetime.now(dt.UTC)) is None
