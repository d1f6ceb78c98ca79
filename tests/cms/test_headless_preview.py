"""Headless preview: a draft seen as the API will show it, only with a valid signed token."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import RequestFactory


def preview_url(page, user) -> str:
    """What the admin's "Partner front-end (API)" preview mode points its frame at."""
    request = RequestFactory().get("/admin/preview/")
    request.user = user
    response = page.serve_preview(request, "headless")
    if hasattr(response, "render"):
        response.render()
    match = re.search(r'src="([^"]+)"', response.content.decode())
    assert match, response.content[:300]
    return unescape(match.group(1))


@pytest.mark.django_db
def test_an_editor_previews_a_draft_as_the_api_shows_it(seed, client, admin_user):
    post = seed["post"]
    assert ("headless", "Partner front-end (API)") in post.preview_modes
    post.title = "Draft title only an editor may see"
    url = preview_url(post, admin_user)
    parts = urlsplit(url)
    assert parts.path == "/api/v2/page_preview/"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}

    response = client.get(parts.path, query)
    assert response.status_code == 200
    data = response.json()
    assert data["title"] == "Draft title only an editor may see"
    assert [a["name"] for a in data["authors"]] == ["Dr. Pan", "Dr. Lee"]
    assert response["Cache-Control"] == "private, no-store"
    # The public API still shows the published title.
    public = client.get(f"/api/v2/pages/{post.pk}/").json()
    assert public["title"].startswith("Breast Cancer Relapse")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({}, 400),
        ({"content_type": "cms.blogpostpage"}, 400),
        ({"content_type": "cms.blogpostpage", "token": "id=6:forged"}, 404),
        ({"content_type": "nonsense", "token": "x"}, 400),
        ({"content_type": "cms.blogpostpage", "token": ""}, 400),
        ({"content_type": "cms.blogpostpage", "token": "id=6:forged", "id": "6"}, 404),
    ],
)
def test_preview_without_a_valid_token_shows_nothing(seed, client, query, status):
    response = client.get("/api/v2/page_preview/", query)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["message"]
    assert "Breast Cancer" not in response.content.decode()


@pytest.mark.django_db
def test_a_token_only_opens_its_own_preview(seed, client, admin_user):
    """A genuine token with another content type, or with its signature cut, shows nothing."""
    post = seed["post"]
    post.title = "Draft title only an editor may see"
    query = {k: v[0] for k, v in parse_qs(urlsplit(preview_url(post, admin_user)).query).items()}
    cases = [
        {**query, "content_type": "cms.eventresourcespage"},
        {**query, "token": query["token"].rsplit(":", 1)[0] + ":AAAA"},
    ]
    for case in cases:
        response = client.get("/api/v2/page_preview/", case)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json" and response.json()["message"]
        assert "Draft title" not in response.content.decode()


@pytest.mark.django_db
def test_preview_tokens_expire(seed, client, admin_user, settings):
    post = seed["post"]
    post.title = "Expired preview"
    query = {k: v[0] for k, v in parse_qs(urlsplit(preview_url(post, admin_user)).query).items()}
    settings.HEADLESS_PREVIEW_MAX_AGE = -1
    response = client.get("/api/v2/page_preview/", query)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "expired" in response.json()["message"]
    assert "Expired preview" not in response.content.decode()


@pytest.mark.django_db
def test_the_editor_offers_the_partner_preview_mode(seed, admin_client):
    content = admin_client.get(f"/admin/pages/{seed['post'].pk}/edit/").content.decode()
    assert "Partner front-end (API)" in content
