"""POST /api/screening/<page_id>/evaluate/: good answers, and every kind of bad input."""

import datetime as dt
import json

import pytest
from django.test import RequestFactory
from django.utils import timezone
from wagtail.models import PageViewRestriction

from screening.api import client_key
from screening.models import ScreenerPage, ScreeningOutcomeCount
from tests.screening.conftest import cache_entries


def url(page_id) -> str:
    return f"/api/screening/{page_id}/evaluate/"


def post(client, page_id, body, content_type="application/json", **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url(page_id), data=data, content_type=content_type, **extra)


def api_item_ids(client, page) -> list[str]:
    """The answer ids exactly as a partner reads them from the pages API."""
    detail = client.get(f"/api/v2/pages/{page.pk}/").json()
    return [item["id"] for item in detail["items"]]


@pytest.mark.django_db
def test_item_ids_from_the_pages_api_evaluate(screener, client):
    ids = api_item_ids(client, screener)
    assert ids == [item.id for item in screener.items] and len(ids) == 4
    response = post(client, screener.pk, {"answers": [ids[0]]})
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "doctor"
    assert (
        "We recommend that you discuss these health issues with your doctor" in body["message_html"]
    )
    assert body["next_url"] == "http://testserver/back-pain-program/"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_none_and_highest_urgency(graded_screener, client):
    leg, bladder, fever, history = api_item_ids(client, graded_screener)
    none = post(client, graded_screener.pk, {"answers": ["none"]}).json()
    assert none["outcome"] == "none"
    assert none["next_url"] == "http://testserver/back-pain-program/"
    assert "you can go on to the program" in none["message_html"]

    care = post(client, graded_screener.pk, {"answers": [fever, history]}).json()
    assert care["outcome"] == "care_team"
    assert "Contact your care team today, the same day." in care["message_html"]

    emergency = post(client, graded_screener.pk, {"answers": [leg, history, bladder]}).json()
    assert emergency["outcome"] == "emergency"
    assert emergency["next_url"] is None
    assert "Call 911" in emergency["message_html"]

    counts = dict(ScreeningOutcomeCount.objects.values_list("outcome", "count"))
    assert counts == {"none": 1, "care_team": 1, "emergency": 1}


@pytest.mark.django_db
def test_message_links_are_absolute_and_sanitised(screener, client):
    program = screener.program_page
    screener.doctor_message = (
        f'<p>See <a linktype="page" id="{program.pk}">the program</a>.</p>'
        '<p onclick="alert(1)">Hi<script>alert(2)</script></p>'
    )
    screener.save_revision().publish()
    html = post(client, screener.pk, {"answers": [screener.items[0].id]}).json()["message_html"]
    assert 'href="http://testserver/back-pain-program/"' in html
    assert "onclick" not in html and "<script" not in html


@pytest.mark.django_db
def test_program_link_is_withheld_when_the_program_is_not_public(screener, client):
    PageViewRestriction.objects.create(
        page=screener.program_page, restriction_type=PageViewRestriction.LOGIN
    )
    body = post(client, screener.pk, {"answers": ["none"]}).json()
    assert body["outcome"] == "none" and body["next_url"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ("not json at all", "invalid_json", "must be JSON"),
        (b"\xff\xfe\x00", "invalid_json", "must be JSON"),
        ("[]", "invalid_body", "JSON object"),
        ('"answers"', "invalid_body", "JSON object"),
        ("{}", "missing_answers", "“answers” is required"),
        ('{"answers": "none"}', "invalid_answers", "must be a list"),
        ('{"answers": [1, 2]}', "invalid_answers", "must be a list of item ids"),
        ('{"answers": [null]}', "invalid_answers", "must be a list of item ids"),
        ('{"answers": {"a": 1}}', "invalid_answers", "must be a list"),
        ('{"answers": ["none"], "email": "x@example.org"}', "unexpected_fields", "email"),
        ('{"answers": []}', "no_answer", "None of these"),
        ('{"answers": ["none", "none", "zzz"]}', "none_with_items", "cannot be selected together"),
        ('{"answers": ["' + "x" * 65 + '"]}', "invalid_answers", "too long"),
    ],
)
def test_bad_input_is_a_400_that_names_the_problem(screener, client, body, code, words):
    response = post(client, screener.pk, body)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["error"] == code
    assert words in payload["detail"]
    assert "Traceback" not in response.content.decode()
    assert ScreeningOutcomeCount.objects.count() == 0


@pytest.mark.django_db
def test_none_together_with_real_items_is_refused(screener, client):
    response = post(client, screener.pk, {"answers": ["none", screener.items[0].id]})
    assert response.status_code == 400
    assert response.json()["error"] == "none_with_items"


@pytest.mark.django_db
def test_unknown_item_ids_are_named(screener, client):
    known = screener.items[0].id
    response = post(client, screener.pk, {"answers": [known, "made-up", "also-made-up"]})
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"] == "unknown_items"
    assert payload["unknown_answers"] == ["made-up", "also-made-up"]
    assert ScreeningOutcomeCount.objects.count() == 0


@pytest.mark.django_db
def test_pages_that_are_not_public_screeners_are_404_json(screener, seed, client):
    answer = {"answers": ["none"]}
    # Ids that are not numbers ("abc", "²") are a 400: tests/cms/test_odd_input.py.
    for page_id in (seed["post"].pk, seed["home"].pk, 999999, screener.program_page_id):
        response = post(client, page_id, answer)
        assert response.status_code == 404, page_id
        assert response.json()["error"] == "not_found"

    restriction = PageViewRestriction.objects.create(
        page=seed["home"], restriction_type=PageViewRestriction.LOGIN
    )
    assert post(client, screener.pk, answer).status_code == 404  # private via an ancestor
    restriction.delete()

    ScreenerPage.objects.filter(pk=screener.pk).update(
        expire_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert post(client, screener.pk, answer).status_code == 404
    ScreenerPage.objects.filter(pk=screener.pk).update(expire_at=None)

    screener.unpublish()
    assert post(client, screener.pk, answer).status_code == 404
    assert ScreeningOutcomeCount.objects.count() == 0


@pytest.mark.django_db
def test_body_size_is_limited(screener, client):
    big = json.dumps({"answers": ["none"], "pad": "x" * 5000})
    response = post(client, screener.pk, big)
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"


@pytest.mark.django_db
def test_the_trailing_slash_is_optional(screener, client):
    response = client.post(
        f"/api/screening/{screener.pk}/evaluate",
        {"answers": ["none"]},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["outcome"] == "none"


@pytest.mark.django_db
def test_only_post_is_allowed(screener, client):
    response = client.get(url(screener.pk))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"


@pytest.mark.django_db
def test_rate_limited_per_client_without_keeping_the_address(screener, client, settings):
    settings.SCREENING_API_RATE_LIMIT = 3
    settings.SCREENING_API_RATE_WINDOW = 3600
    ok = [
        post(client, screener.pk, {"answers": ["none"]}, REMOTE_ADDR="203.0.113.7")
        for _ in range(3)
    ]
    assert [r.status_code for r in ok] == [200, 200, 200]
    limited = post(client, screener.pk, {"answers": ["none"]}, REMOTE_ADDR="203.0.113.7")
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 3600
    # Another client is unaffected.
    other = post(client, screener.pk, {"answers": ["none"]}, REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 200
    assert ScreeningOutcomeCount.objects.get().count == 4

    key_part = client_key(RequestFactory().get("/", REMOTE_ADDR="203.0.113.7"))
    assert "203.0.113.7" not in key_part
    window_key = [k for k in cache_entries() if key_part in k]
    assert window_key, "the counter lives in the shared cache"
    assert all("203.0.113.7" not in k and "none" not in k for k in cache_entries())
