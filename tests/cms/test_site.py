"""The reader site: every page type renders its content as valid HTML without JavaScript."""

import datetime as dt

import html5lib
import pytest
from django.utils import timezone
from wagtail.models import PageViewRestriction

from cms.models import Author, BlogPostPage, BlogPostReference
from tests.factories import make_post


def assert_valid_html(content: bytes) -> None:
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(content)  # raises ParseError on any HTML error


@pytest.mark.django_db
def test_post_page_shows_title_date_authors_and_body(seed, client):
    response = client.get(seed["post"].url)
    content = response.content.decode()
    assert "Breast Cancer Relapse And Side Effects Related To Treatment With Arimidex" in content
    assert '<time datetime="2010-07-01">Jul 01, 2010</time>' in content
    assert "Dr. Pan</a> and <a" in content and "Dr. Lee</a>" in content
    assert "<h2>Aromatase inhibitor</h2>" in content
    assert "Cancer Care" in content and "Santa Clara Medical Center" in content
    # No JavaScript: the only script element is JSON-LD data.
    assert content.count("<script") == content.count('<script type="application/ld+json">') == 1
    assert_valid_html(response.content)


@pytest.mark.django_db
def test_references_are_listed_with_their_heading(seed, client):
    post = seed["post"]
    post.references = [
        BlogPostReference(title="ATAC trial", url="https://example.org/atac", note="2010")
    ]
    post.save_revision().publish()
    content = client.get(post.url).content.decode()
    assert "Additional References:" in content
    assert '<a href="https://example.org/atac">ATAC trial</a> &mdash; 2010' in content


@pytest.mark.django_db
def test_blog_lists_newest_first_and_filters_by_tag_and_author(seed, client):
    blog = seed["blog"]
    pan = Author.objects.get(slug="dr-pan")
    other = Author.objects.create(name="Dr. Other", slug="dr-other")
    make_post(blog, "Newest post", dt.date(2024, 5, 1), pan, tags=["nutrition"])
    make_post(blog, "Other's post", dt.date(2023, 1, 1), other, tags=["exercise"])
    make_post(blog, "Draft post", dt.date(2025, 1, 1), pan, publish=False)

    content = client.get(blog.url).content.decode()
    assert (
        content.index("Newest post")
        < content.index("Other&#x27;s post")
        < content.index("Arimidex")
    )
    assert "Draft post" not in content

    by_tag = client.get(blog.url, {"tag": "nutrition"}).content.decode()
    assert (
        "Newest post" in by_tag and "Other&#x27;s post" not in by_tag and "Arimidex" not in by_tag
    )

    by_author = client.get(blog.url, {"author": "dr-other"}).content.decode()
    assert "Other&#x27;s post" in by_author and "Newest post" not in by_author
    assert_valid_html(client.get(blog.url).content)


@pytest.mark.django_db
def test_blog_is_paginated(seed, client):
    blog = seed["blog"]
    pan = Author.objects.get(slug="dr-pan")
    for i in range(11):
        make_post(blog, f"Post number {i:02d}", dt.date(2020, 1, 1) + dt.timedelta(days=i), pan)
    first = client.get(blog.url).content.decode()
    assert "Post number 10" in first and "Arimidex" not in first and "Page 1 of 2" in first
    second = client.get(blog.url, {"page": 2}).content.decode()
    assert "Arimidex" in second and "Post number 10" not in second
    # A page number past the end shows the last page, not an error.
    assert "Arimidex" in client.get(blog.url, {"page": 99}).content.decode()


@pytest.mark.django_db
def test_seeds_of_hope_lists_years_newest_first(seed, client):
    content = client.get(seed["events"].url).content.decode()
    assert content.index("2019 &quot;Eat Well") < content.index("2018 Healthy Body")
    assert "Resources and educational links for our 2019 Seeds of Hope." in content
    assert_valid_html(client.get(seed["events"].url).content)


@pytest.mark.django_db
def test_home_shows_sections_promos_and_view_all(seed, client):
    content = client.get("/").content.decode()
    assert "Destination health: Stopping cancer before it starts" in content
    assert "Focus on cancer prevention, screening, treatment, and research" in content
    assert "View All" in content
    assert "Breast Cancer Relapse" in content
    assert_valid_html(client.get("/").content)


@pytest.mark.django_db
def test_expired_page_is_not_served_even_before_the_scheduler_runs(seed, client):
    post = seed["post"]
    BlogPostPage.objects.filter(pk=post.pk).update(
        expire_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(post.url).status_code == 404


@pytest.mark.django_db
def test_private_page_needs_its_password(seed, client):
    post = seed["post"]
    PageViewRestriction.objects.create(page=post, restriction_type="password", password="s3cret")
    content = client.get(post.url).content.decode()
    assert "Aromatase inhibitor" not in content


@pytest.mark.django_db
def test_branded_404(seed, client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Santa Clara Medical Center" in response.content.decode()


@pytest.mark.django_db
def test_robots_and_sitemap_list_only_live_pages(seed, client):
    blog = seed["blog"]
    make_post(blog, "Secret draft", dt.date(2025, 1, 1), Author.objects.first(), publish=False)
    robots = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in robots
    sitemap = client.get("/sitemap.xml").content.decode()
    assert "breast-cancer-relapse" in sitemap
    assert "secret-draft" not in sitemap
