"""Search, structured data and review governance: how readers and machines find content."""

import datetime as dt
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from wagtail.models import PageViewRestriction

from cms.models import Author, BlogPostPage, EventResourcesPage
from tests.cms.conftest import HIDDEN
from tests.factories import make_post


def json_ld(content: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', content, re.S)
    assert match, "no JSON-LD on the page"
    return json.loads(match.group(1))


def graph_types(data: dict) -> dict:
    return {node["@type"]: node for node in data["@graph"]}


@pytest.mark.django_db
def test_search_finds_posts_and_events_but_never_hidden_pages(seed, client):
    author = Author.objects.first()
    make_post(seed["blog"], "Tamoxifen draft notes", dt.date(2024, 1, 1), author, publish=False)
    private = make_post(seed["blog"], "Tamoxifen private notes", dt.date(2024, 1, 2), author)
    PageViewRestriction.objects.create(page=private, restriction_type="login")
    expired = make_post(seed["blog"], "Tamoxifen expired notes", dt.date(2024, 1, 3), author)
    BlogPostPage.objects.filter(pk=expired.pk).update(expire_at=timezone.now())

    content = client.get("/search/", {"query": "Tamoxifen"}).content.decode()
    assert "Breast Cancer Relapse" in content
    assert "draft notes" not in content
    assert "private notes" not in content
    assert "expired notes" not in content
    assert "1 result for" in content

    events = client.get("/search/", {"query": "Healthy Mind"}).content.decode()
    assert "2018 Healthy Body, Healthy Mind" in events


@pytest.mark.django_db
def test_sitemap_and_search_never_list_hidden_pages(hidden_pages, client):
    """Draft, password, login, expired (before the scheduler runs), unpublished, under a
    restricted section, and the draft title of a live page: none in the sitemap or search."""
    sitemap = client.get("/sitemap.xml").content.decode()
    assert "/breast-cancer-relapse-and-side-effects-arimidex/</loc>" in sitemap
    for key, page in hidden_pages.items():
        assert f"/{page.slug}/" not in sitemap, key
    assert "/staff-section/" not in sitemap

    found = client.get("/search/", {"query": "Hidden"}).content.decode()
    assert "No results for" in found
    assert not {title for title in HIDDEN if title in found}
    # The draft title's words find nothing either: search reads the published page.
    assert "No results for" in client.get("/search/", {"query": "draft title"}).content.decode()


@pytest.mark.django_db
def test_search_with_no_query_or_no_results_explains_itself(seed, client):
    assert 'name="query"' in client.get("/search/").content.decode()
    content = client.get("/search/", {"query": "zzzxqqq"}).content.decode()
    assert "No results for “zzzxqqq”." in content
    # Quotes and punctuation used to reach SQLite's full-text syntax and answer 500.
    for query in ('"', 'Tamoxifen"', '">x', "NEAR(a"):
        response = client.get("/search/", {"query": query})
        assert response.status_code == 200, query
    assert "1 result for" in client.get("/search/", {"query": '"Tamoxifen'}).content.decode()


@pytest.mark.django_db
def test_post_has_blogposting_and_reviewed_medical_webpage(seed, client):
    post = seed["post"]
    reviewer = Author.objects.get(slug="dr-lee")
    reviewer.credentials = "MD"
    reviewer.save()
    post.reviewed_by = reviewer
    post.last_reviewed = dt.date(2026, 1, 15)
    post.next_review_due = dt.date(2027, 1, 15)
    post.save_revision().publish()
    content = client.get(post.url).content.decode()
    nodes = graph_types(json_ld(content))
    posting = nodes["BlogPosting"]
    assert posting["headline"].startswith("Breast Cancer Relapse")
    assert posting["datePublished"] == "2010-07-01"
    assert "dateModified" in posting
    assert [a["name"] for a in posting["author"]] == ["Dr. Pan", "Dr. Lee"]
    medical = nodes["MedicalWebPage"]
    assert medical["lastReviewed"] == "2026-01-15"
    assert medical["reviewedBy"] == {"@type": "Person", "name": "Dr. Lee", "honorificSuffix": "MD"}
    assert nodes["MedicalOrganization"]["name"] == "Santa Clara Medical Center"
    assert "Reviewed by Dr. Lee, MD." in content
    assert '<time datetime="2027-01-15">Jan 15, 2027</time>' in content
    assert '<meta property="og:type" content="article">' in content
    assert f'<link rel="canonical" href="http://testserver{post.url}">' in content


@pytest.mark.django_db
def test_event_page_is_an_education_event_in_a_series(seed, client):
    event = EventResourcesPage.objects.get(year=2019)
    nodes = graph_types(json_ld(client.get(event.url).content.decode()))
    education = nodes["EducationEvent"]
    assert education["superEvent"]["@type"] == "EventSeries"
    assert education["superEvent"]["name"] == "Seeds of Hope"
    assert education["about"] == "Eat Well, Heal Well Live Well"


@pytest.mark.django_db
def test_json_ld_cannot_break_out_of_its_script_element(seed, client):
    post = seed["post"]
    post.title = "Evil </script><script>alert(1)</script>"
    post.save_revision().publish()
    content = client.get(post.url).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert json_ld(content)["@graph"][1]["headline"] == post.title


@pytest.mark.django_db
def test_review_dates_are_validated(seed):
    post = seed["post"]
    post.last_reviewed = dt.date(2026, 1, 1)
    with pytest.raises(ValidationError) as error:
        post.full_clean()
    assert "reviewed_by" in error.value.message_dict
    post.reviewed_by = Author.objects.first()
    post.next_review_due = dt.date(2025, 1, 1)
    with pytest.raises(ValidationError) as error:
        post.full_clean()
    assert "next_review_due" in error.value.message_dict


@pytest.mark.django_db
def test_reviews_due_report_lists_overdue_and_unreviewed_pages(seed, admin_client):
    author = Author.objects.first()
    fresh = make_post(seed["blog"], "Freshly reviewed", dt.date(2024, 1, 1), author)
    fresh.reviewed_by, fresh.last_reviewed = author, timezone.localdate()
    fresh.next_review_due = timezone.localdate() + dt.timedelta(days=365)
    fresh.save_revision().publish()
    soon = make_post(seed["blog"], "Review due soon", dt.date(2024, 1, 2), author)
    soon.reviewed_by, soon.last_reviewed = author, timezone.localdate() - dt.timedelta(days=300)
    soon.next_review_due = timezone.localdate() + dt.timedelta(days=10)
    soon.save_revision().publish()

    content = admin_client.get("/admin/reports/reviews-due/").content.decode()
    assert "Review due soon" in content and "Due soon" in content
    assert "Breast Cancer Relapse" in content and "Never reviewed" in content
    assert "Freshly reviewed" not in content
