"""Blog index and pages API lists: same answers, with queries that do not grow with the blog.

The blog index pages through ids (reading pages in the back half from the far end), filters
by tag and author with ``pk IN`` instead of a join plus DISTINCT, and lists authors with a
LIMIT 1 subquery each; the API reads a slice's ids before its rows. These tests pin what a
reader and a partner see, so the cheaper queries cannot change it
(``python -m benchmarks scale`` measures the speed at 100,000 posts).
"""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cms.models import Author, BlogPostAuthor, BlogPostPage
from tests.factories import make_post


def _titles(content: str) -> list[str]:
    return re.findall(r"<h2[^>]*>\s*<a [^>]*>([^<]+)</a>", content)


def _expected(blog) -> list[str]:
    posts = BlogPostPage.objects.live().child_of(blog)
    return [p.title for p in posts.order_by("-date", "-first_published_at", "-pk")]


@pytest.mark.django_db
def test_every_blog_page_holds_the_next_posts_in_order(seed, client, monkeypatch):
    """Front-half pages by OFFSET, back-half pages from the far end: one unbroken list."""
    monkeypatch.setattr("cms.models.blog.POSTS_PER_PAGE", 3)
    blog = seed["blog"]
    pan = Author.objects.get(slug="dr-pan")
    # Three posts share each date: first_published_at (then pk) decides between them.
    for i in range(8):
        make_post(blog, f"Ordered post {i}", dt.date(2021, 1, 1) + dt.timedelta(days=i // 3), pan)
    expected = _expected(blog)
    assert len(expected) == 9
    seen = []
    for number in (1, 2, 3):
        content = client.get(blog.url, {"page": number}).content.decode()
        assert f"Page {number} of 3" in content
        seen += _titles(content)
    assert seen == expected
    # Past the end: the last page, read from the far end.
    assert _titles(client.get(blog.url, {"page": 99}).content.decode()) == expected[6:]


@pytest.mark.django_db
def test_filters_count_a_post_once_and_authors_list_only_shown_posts(seed, client, monkeypatch):
    monkeypatch.setattr("cms.models.blog.POSTS_PER_PAGE", 1)
    blog = seed["blog"]
    pan = Author.objects.get(slug="dr-pan")
    lee = Author.objects.get(slug="dr-lee")
    drafter = Author.objects.create(name="Dr. Drafter", slug="dr-drafter")
    both = make_post(blog, "Two authors two tags", dt.date(2024, 1, 1), pan, tags=["a", "b"])
    both.post_authors.add(BlogPostAuthor(author=lee))
    both.save_revision().publish()
    make_post(blog, "Draft only", dt.date(2024, 2, 1), drafter, publish=False)

    # One post with both tags matches the tag once: one page, not two.
    by_tag = client.get(blog.url, {"tag": "a"}).content.decode()
    assert _titles(by_tag) == ["Two authors two tags"] and "Page 1 of 1" not in by_tag
    by_lee = client.get(blog.url, {"author": "dr-lee"}).content.decode()
    assert _titles(by_lee) == ["Two authors two tags"]
    # Dr. Pan has the seed post too: two pages of one.
    assert "Page 1 of 2" in client.get(blog.url, {"author": "dr-pan"}).content.decode()
    options = re.findall(r'<option value="([^"]+)"', client.get(blog.url).content.decode())
    assert options == ["dr-lee", "dr-pan"]  # by name; not the author of a draft only


@pytest.mark.django_db
def test_blog_index_queries_do_not_grow_with_posts(seed, client):
    blog = seed["blog"]
    pan = Author.objects.get(slug="dr-pan")

    def queries(url_args: dict) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(blog.url, url_args).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        make_post(blog, f"Early {i}", dt.date(2020, 1, 1 + i), pan, tags=["t"])
    queries({"n": 0})  # the first request fills per-process caches (site root paths)
    few = queries({"tag": "t", "n": 1}), queries({"n": 1})
    for i in range(12):
        make_post(blog, f"Later {i}", dt.date(2022, 1, 1 + i), pan, tags=["t"])
    many = queries({"tag": "t", "n": 2}), queries({"n": 2}), queries({"page": 2, "n": 2})
    assert many[0] == few[0] and many[1] == few[1]
    # Page 2 (read from the far end) costs what page 1 costs.
    assert many[2] == few[1]


@pytest.mark.django_db
def test_api_list_pages_are_the_ordered_slices(seed, client):
    """Front-half slices by OFFSET, back-half ones from the far end: one unbroken list."""
    blog = seed["blog"]
    pan = Author.objects.get(slug="dr-pan")
    posts = [
        make_post(blog, f"API post {i}", dt.date(2022, 3, 1 + i), pan, tags=["x"]) for i in range(6)
    ]
    # Two posts published at the same instant: the primary key orders them, on every page.
    BlogPostPage.objects.filter(pk=posts[1].pk).update(
        first_published_at=posts[2].first_published_at
    )
    live = BlogPostPage.objects.live()
    newest = list(live.order_by("-first_published_at", "-pk").values_list("pk", flat=True))
    by_path = list(live.order_by("path").values_list("pk", flat=True))
    url = "/api/v2/pages/?type=cms.BlogPostPage&fields=tags,authors"
    for order, expected in (("&order=-first_published_at", newest), ("", by_path)):
        pages = [client.get(f"{url}{order}&limit=2&offset={at}").json() for at in (0, 2, 4, 6)]
        assert [p["meta"]["total_count"] for p in pages] == [7] * 4
        assert [item["id"] for p in pages for item in p["items"]] == expected
        items = {item["id"]: item for p in pages for item in p["items"]}
        assert items[posts[0].pk]["tags"] == ["x"] and items[posts[0].pk]["authors"]
    assert client.get(f"{url}&offset=50").json()["items"] == []
    # Random order and search still answer (search results are not paged by ids).
    assert len(client.get(f"{url}&order=random").json()["items"]) == 7
    assert client.get("/api/v2/pages/?search=API").status_code == 200
