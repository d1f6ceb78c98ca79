"""The headless API: Wagtail's v2 and v3 show all content, and only live public pages."""

import datetime as dt

import pytest

from cms.models import Author, BlogPostReference
from tests.cms.conftest import HIDDEN
from tests.factories import make_post

V2 = "/api/v2/pages/"
V3 = "/api/v3/pages/"


def titles(response) -> set[str]:
    assert response.status_code == 200, response.content[:500]
    return {item["title"] for item in response.json()["items"]}


@pytest.mark.django_db
def test_v2_post_has_authors_date_body_and_tags(seed, client):
    post = seed["post"]
    data = client.get(f"{V2}{post.pk}/").json()
    assert data["title"].startswith("Breast Cancer Relapse")
    assert data["date"] == "2010-07-01"
    assert [a["name"] for a in data["authors"]] == ["Dr. Pan", "Dr. Lee"]
    heading = data["body"][0]
    assert heading["type"] == "heading" and heading["id"]
    assert heading["value"] == {"text": "Aromatase inhibitor", "level": "h2"}
    assert "ATAC trial" in data["body"][2]["value"]
    assert set(data["tags"]) == {"breast cancer", "aromatase inhibitors"}
    assert data["references"] == []
    assert data["meta"]["html_url"] == f"http://testserver{post.url}"


@pytest.mark.django_db
def test_v2_event_and_screener_expose_their_content(seed, client):
    from cms.models import EventResourcesPage
    from screening.models import ScreenerPage

    event = EventResourcesPage.objects.get(year=2019)
    data = client.get(f"{V2}{event.pk}/").json()
    assert data["theme"] == "Eat Well, Heal Well Live Well"
    assert data["teaser"] == "Resources and educational links for our 2019 Seeds of Hope."
    assert data["sessions"] == [] and data["resources"] == []

    screener = ScreenerPage.objects.get()
    data = client.get(f"{V2}{screener.pk}/").json()
    assert data["question"] == "Are you having back pain with any of the following?"
    assert [item["value"]["text"] for item in data["items"]][0] == (
        "Severe pain, weakness or tingling in your leg(s)."
    )
    assert all(item["id"] for item in data["items"])
    # The seed keeps its title-only program page a draft: no link to a page readers cannot see.
    assert data["program_page"] is None
    program = screener.program_page
    program.intro = "<p>Gentle exercises for back pain.</p>"
    program.save_revision().publish()
    data = client.get(f"{V2}{screener.pk}/").json()
    assert data["program_page"]["id"] == screener.program_page_id


@pytest.mark.django_db
def test_v3_detail_and_openapi(seed, client):
    post = seed["post"]
    data = client.get(f"{V3}{post.pk}/").json()
    assert data["meta"]["type"] == "cms.BlogPostPage"
    assert [a["name"] for a in data["authors"]] == ["Dr. Pan", "Dr. Lee"]
    assert data["date"] == "2010-07-01"
    openapi = client.get("/api/v3/openapi.json").json()
    assert openapi["openapi"].startswith("3.")
    assert "/api/v3/pages/" in openapi["paths"]
    assert "/api/v3/pages/{page_id}/" in openapi["paths"]


@pytest.mark.django_db
def test_v2_never_shows_hidden_pages(hidden_pages, client):
    assert not titles(client.get(V2, {"limit": 100})) & HIDDEN
    assert not titles(client.get(V2, {"type": "cms.BlogPostPage", "fields": "*"})) & HIDDEN
    assert not titles(client.get(V2, {"search": "Hidden"})) & HIDDEN
    for page in hidden_pages.values():
        assert client.get(f"{V2}{page.pk}/").status_code == 404, page.title
        find = client.get(f"{V2}find/", {"html_path": page.url})
        assert find.status_code == 404, page.title


@pytest.mark.django_db
def test_v3_never_shows_draft_private_or_unpublished_pages(hidden_pages, client):
    # Expiry is enforced in v3 by the scheduler flipping `live` off at the instant;
    # the scheduler tests cover that. The rest is Wagtail's own public queryset.
    hidden = HIDDEN - {"Hidden expired"}
    assert not titles(client.get(V3, {"limit": 100})) & hidden
    assert not titles(client.get(V3, {"search": "Hidden"})) & hidden
    for key, page in hidden_pages.items():
        if key == "expired":
            continue
        assert client.get(f"{V3}{page.pk}/").status_code == 404, page.title


@pytest.mark.django_db
def test_v3_revisions_and_snippets_are_not_public(hidden_pages, client, seed):
    """v3 also mounts page revisions and snippets (promotions have drafts): not for readers."""
    from cms.models import Promo

    Promo.objects.create(title="Hidden draft promotion", live=False)
    live = seed["post"]
    responses = [
        client.get(f"{V3}{live.pk}/revisions/"),
        client.get(f"{V3}{live.pk}/revisions/{live.latest_revision_id}/"),
        client.get("/api/v3/snippets/cms.Promo/"),
    ]
    for response in responses:
        assert response.status_code in (401, 403, 404), response.request["PATH_INFO"]
        assert "Hidden draft" not in response.content.decode()


@pytest.mark.django_db
def test_v3_write_endpoints_need_a_token(seed, client):
    response = client.post(
        V3, {"meta": {"type": "cms.BlogPostPage"}, "title": "x"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()


@pytest.mark.django_db
def test_cors_allows_configured_partner_origins_only(seed, client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://partner.example.org"]
    allowed = client.get(V2, HTTP_ORIGIN="https://partner.example.org")
    assert allowed["Access-Control-Allow-Origin"] == "https://partner.example.org"
    other = client.get(V2, HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other
    # The admin is never opened to other origins.
    admin = client.get("/admin/login/", HTTP_ORIGIN="https://partner.example.org")
    assert "Access-Control-Allow-Origin" not in admin


@pytest.mark.django_db
@pytest.mark.parametrize("url", [V2, V3, f"{V2}?type=cms.BlogPostPage&fields=*"])
def test_api_reads_revalidate_with_etags_that_change_on_publish(seed, client, url):
    first = client.get(url)
    assert first["Cache-Control"] == "public, max-age=0, must-revalidate"
    etag = first["ETag"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304

    make_post(seed["blog"], "A brand new post", dt.date(2026, 1, 1), Author.objects.first())
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert "A brand new post" in changed.content.decode()
    assert changed["ETag"] != etag


@pytest.mark.django_db
def test_authenticated_api_reads_are_not_publicly_cacheable(seed, admin_client):
    assert admin_client.get(V2)["Cache-Control"] == "private, no-cache"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", [V2, f"{V2}?type=cms.BlogPostPage&fields=*", f"{V3}?type=cms.BlogPostPage"]
)
def test_api_list_queries_do_not_grow_with_limit(seed, client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    author = Author.objects.first()
    for i in range(12):
        post = make_post(seed["blog"], f"Post {i}", dt.date(2021, 1, 1), author, tags=[f"t{i}"])
        post.references = [BlogPostReference(title="r", url="https://example.org/r")]
        post.save_revision().publish()
    counts = []
    sep = "&" if "?" in url else "?"
    client.get(f"{url}{sep}limit=1")  # process-wide caches (content types) warm, as in service
    for limit in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}{sep}limit={limit}")
        assert response.status_code == 200 and len(response.json()["items"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
