"""Syndication feeds: valid in every format, only public content, fresh, cheap to build."""

import datetime as dt
import json

import feedparser
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date
from wagtail.models import PageViewRestriction

import publishing.syndication.feeds
from cms.models import Author, BlogPostAuthor, BlogPostPage, BlogPostReference
from tests.cms.test_site import assert_valid_html
from tests.factories import make_post
from tests.publishing.feed_checks import check_feed, item_titles

FORMATS = ("rss", "atom", "json")
SEED_POST = "Breast Cancer Relapse And Side Effects Related To Treatment With Arimidex"


def feed_urls(kinds=("blog", "tag/breast-cancer", "author/dr-pan", "events")):
    return [
        f"/feeds/{'blog/' if kind.startswith(('tag', 'author')) else ''}{kind}/{fmt}/"
        for kind in kinds
        for fmt in FORMATS
    ]


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Run ``fn`` as its own transaction would: on-commit work (invalidation) happens."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.mark.django_db
@pytest.mark.parametrize("url", feed_urls())
def test_every_feed_is_valid_and_carries_the_seed_content(seed, client, url):
    response = client.get(url)
    check_feed(response)
    titles = item_titles(response)
    if "events" in url:
        assert len(titles) == 2 and all("Seeds of Hope" not in t for t in titles)
        assert any(t.startswith("2019") for t in titles)
    else:
        assert titles == [SEED_POST]
    assert response["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert response["ETag"].startswith('"') and response["Last-Modified"]


@pytest.mark.django_db
def test_items_have_ids_urls_dates_authors_tags_and_absolute_content(seed, client, publish):
    post = seed["post"]
    post.body = [
        ("paragraph", '<p>See <a href="/news-events/blog/">the blog</a> and <b>more</b>.</p>')
    ]
    publish(post.save_revision().publish)

    atom = feedparser.parse(client.get("/feeds/blog/atom/").content)
    entry = atom.entries[0]
    assert entry.id.startswith("urn:uuid:") and entry.id == f"urn:uuid:{post.translation_key}"
    assert entry.link == (
        "http://testserver/news-events/blog/breast-cancer-relapse-and-side-effects-arimidex/"
    )
    assert [a.name for a in entry.authors] == ["Dr. Pan", "Dr. Lee"]
    assert sorted(t.term for t in entry.tags) == ["aromatase inhibitors", "breast cancer"]
    assert entry.summary.startswith("More than a decade ago")
    assert 'href="http://testserver/news-events/blog/"' in entry.content[0].value
    assert entry.published.startswith("2010-07-01")
    assert atom.feed.author == "Cancer Care, Santa Clara Medical Center"

    rss = feedparser.parse(client.get("/feeds/blog/rss/").content)
    item = rss.entries[0]
    assert item.id == entry.id and item.link == entry.link
    assert "<b>more</b>" in item.content[0].value
    assert item.published.startswith("Thu, 01 Jul 2010")
    assert [a.name for a in item.authors] == ["Dr. Pan", "Dr. Lee"]

    feed = json.loads(client.get("/feeds/blog/json/").content)
    item = feed["items"][0]
    assert item["id"] == entry.id and item["url"] == entry.link
    assert item["date_published"].startswith("2010-07-01T")
    assert item["date_modified"] >= item["date_published"]
    assert [a["name"] for a in item["authors"]] == ["Dr. Pan", "Dr. Lee"]
    assert item["authors"][0]["url"] == "http://testserver/news-events/blog/?author=dr-pan"
    assert sorted(item["tags"]) == ["aromatase inhibitors", "breast cancer"]
    assert '<a href="http://testserver/news-events/blog/" rel="noopener">' in item["content_html"]


HOSTILE_TITLE = "Bell\x07 and esc\x1b ]]> AT&amp;T <script>alert(1)</script> 😀 שלום عليكم \u202e"
HOSTILE_BODY = (
    "<p>Ctrl\x0b ]]> &lt;tag&gt; &amp;amp; &nbsp; 😀 שלום"
    '<script>alert("x")</script><img src="/media/x.png" onerror="alert(1)" alt="x">'
    '<a href="/news-events/">news</a></p>'
)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_content_still_yields_a_valid_sanitised_feed(seed, client, publish, fmt):
    pan = Author.objects.get(slug="dr-pan")
    publish(
        make_post,
        seed["blog"],
        HOSTILE_TITLE,
        dt.date(2024, 1, 1),
        pan,
        tags=["emoji 😀"],
        body=[("paragraph", HOSTILE_BODY)],
    )
    post = BlogPostPage.objects.get(title=HOSTILE_TITLE)
    post.summary = "Summary ]]> with \x01 control and <script>x</script>"
    publish(post.save_revision().publish)

    response = client.get(f"/feeds/blog/{fmt}/")
    check_feed(response)
    body = response.content.decode()
    assert "\x07" not in body and "\x1b" not in body and "\x01" not in body
    assert "<script" not in body.replace("&lt;script", "")  # only ever as escaped text
    titles = item_titles(response)
    expected = "Bell and esc ]]> AT&amp;T <script>alert(1)</script> 😀 שלום عليكم \u202e"
    assert titles[0] == expected
    if fmt == "json":
        item = json.loads(body)["items"][0]
        html = item["content_html"]
        assert item["tags"] == ["emoji 😀"]
    else:
        html = feedparser.parse(response.content).entries[0].content[0].value
    assert "<script" not in html and "onerror" not in html and 'alert("x")' not in html
    # A bare <img> is no rich text feature (images are blocks): cleaned out with the rest.
    assert "<img" not in html
    assert 'href="http://testserver/news-events/"' in html
    assert "😀 שלום" in html


@pytest.mark.django_db
def test_conditional_get_gives_304_until_the_content_changes(seed, client, publish):
    first = client.get("/feeds/blog/atom/")
    etag, modified = first["ETag"], first["Last-Modified"]

    not_modified = client.get("/feeds/blog/atom/", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag
    assert client.get("/feeds/blog/atom/", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert client.get("/feeds/blog/atom/", HTTP_IF_NONE_MATCH='"other"').status_code == 200

    # A publish that does not change this feed's content (the home page, unchanged):
    # the feed is rebuilt, and its validators stay the same.
    publish(seed["home"].save_revision().publish)
    rebuilt = client.get("/feeds/blog/atom/", HTTP_IF_NONE_MATCH=etag)
    assert rebuilt.status_code == 304

    # Removing an older item changes the feed without a newer date in it.
    pan = Author.objects.get(slug="dr-pan")
    newer = publish(make_post, seed["blog"], "Newer post", dt.date(2024, 1, 1), pan)
    after_publish = client.get("/feeds/blog/atom/", HTTP_IF_NONE_MATCH=etag)
    assert after_publish.status_code == 200 and after_publish["ETag"] != etag
    assert item_titles(after_publish) == ["Newer post", SEED_POST]

    publish(seed["post"].unpublish)
    after_removal = client.get(
        "/feeds/blog/atom/",
        HTTP_IF_NONE_MATCH=after_publish["ETag"],
    )
    assert after_removal.status_code == 200 and item_titles(after_removal) == ["Newer post"]
    ims = client.get("/feeds/blog/atom/", HTTP_IF_MODIFIED_SINCE=after_publish["Last-Modified"])
    assert ims.status_code == 200, "a removal must move Last-Modified forward"
    assert newer.live


@pytest.mark.django_db
def test_drafts_unpublished_private_and_expired_pages_never_appear(seed, client, publish):
    blog = seed["blog"]
    pan = Author.objects.get(slug="dr-pan")
    tags = ["breast cancer"]
    publish(make_post, blog, "Draft only", dt.date(2025, 1, 1), pan, tags=tags, publish=False)
    live = publish(make_post, blog, "Live post", dt.date(2024, 2, 1), pan, tags=tags)
    live.title = "Unpublished draft title of a live post"
    live.save_revision()
    soon = timezone.now() + dt.timedelta(hours=1)
    expiring = publish(
        make_post, blog, "Expiring post", dt.date(2024, 3, 1), pan, tags=tags, expire_at=soon
    )
    private = publish(make_post, blog, "Private post", dt.date(2024, 4, 1), pan, tags=tags)

    urls = feed_urls(("blog", "tag/breast-cancer", "author/dr-pan"))
    for url in urls:
        titles = item_titles(client.get(url))
        assert "Live post" in titles and "Private post" in titles and "Expiring post" in titles
        assert "Draft only" not in titles
        assert "Unpublished draft title of a live post" not in titles

    # Made private: gone from every feed at once (the restriction invalidates the cache).
    publish(PageViewRestriction.objects.create, page=private, restriction_type="login")
    # Unpublished: gone at once.
    publish(live.unpublish)
    for url in urls:
        titles = item_titles(client.get(url))
        assert "Private post" not in titles and "Live post" not in titles
        assert "Expiring post" in titles

    # Expired: gone the moment expire_at passes, though nothing has unpublished it
    # yet and the feed was cached before (the cached copy is not served past expiry).
    with pytest.MonkeyPatch.context() as patch:
        later = soon + dt.timedelta(seconds=1)
        patch.setattr(timezone, "now", lambda: later)
        patch.setattr("publishing.syndication.cache.time.time", lambda: later.timestamp())
        for url in urls:
            assert "Expiring post" not in item_titles(client.get(url))
    expiring.refresh_from_db()
    assert expiring.live, "the page is still live: the feed filtered it by expire_at"


@pytest.mark.django_db
def test_private_blog_takes_its_feeds_away(seed, client, publish):
    publish(PageViewRestriction.objects.create, page=seed["blog"], restriction_type="login")
    response = client.get("/feeds/blog/rss/")
    assert response.status_code == 404 and response.json() == {"error": "There is no blog."}
    assert SEED_POST.encode() not in client.get("/feeds/blog/tag/breast-cancer/json/").content


@pytest.mark.django_db
def test_archive_pages_let_a_partner_read_the_whole_history(seed, client, monkeypatch):
    monkeypatch.setattr(publishing.syndication.feeds, "PAGE_SIZE", 2)
    pan = Author.objects.get(slug="dr-pan")
    for n in range(4):
        make_post(seed["blog"], f"Post {n}", dt.date(2024, 1, 1 + n), pan)

    seen, url, pages = [], "/feeds/blog/json/", 0
    while url:
        response = client.get(url)
        data = check_feed(response)
        seen += [item["title"] for item in data["items"]]
        url = data.get("next_url", "").removeprefix("http://testserver")
        pages += 1
    assert seen == ["Post 3", "Post 2", "Post 1", "Post 0", SEED_POST] and pages == 3

    atom_titles, url = [], "/feeds/blog/atom/"
    while url:
        response = client.get(url)
        root = check_feed(response)
        parsed = feedparser.parse(response.content)
        atom_titles += [e.title for e in parsed.entries]
        links = {link.rel: link.href for link in parsed.feed.links}
        assert links["first"] == "http://testserver/feeds/blog/atom/"
        assert links["last"] == "http://testserver/feeds/blog/atom/?page=3"
        if "page=" in url:
            assert links["current"] == "http://testserver/feeds/blog/atom/"
            assert links["self"] == f"http://testserver{url}"
        assert links.get("next") == links.get("prev-archive")
        url = links.get("prev-archive", "").removeprefix("http://testserver")
        assert root is not None
    assert atom_titles == seen

    rss = feedparser.parse(client.get("/feeds/blog/rss/?page=2").content)
    rss_links = {link.rel: link.href for link in rss.feed.links}
    assert rss_links["next"] == "http://testserver/feeds/blog/rss/?page=3"
    assert rss_links["previous"] == "http://testserver/feeds/blog/rss/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/feeds/blog/atom/?page=0", 400, "“page” must be a whole number of 1 or more."),
        ("/feeds/blog/atom/?page=abc", 400, "“page” must be a whole number of 1 or more."),
        ("/feeds/blog/atom/?page=9", 404, "There is no page 9; this feed has 1."),
        ("/feeds/blog/tag/no-such-tag/rss/", 404, "There is no tag “no-such-tag”."),
        ("/feeds/blog/author/nobody/json/", 404, "There is no author “nobody”."),
    ],
)
def test_bad_requests_get_a_json_error_that_says_what_is_wrong(seed, client, url, status, message):
    response = client.get(url)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == message


def _add_posts(blog, count, start=0):
    """Posts with two authors, tags and a reference each, as the builder must prefetch."""
    pan, lee = Author.objects.get(slug="dr-pan"), Author.objects.get(slug="dr-lee")
    now = timezone.now()
    for n in range(start, start + count):
        post = BlogPostPage(
            title=f"Bulk {n}",
            date=dt.date(2020, 1, 1),
            summary="s",
            live=True,
            first_published_at=now,
            last_published_at=now,
            body=[("paragraph", f"<p>Body {n}</p>")],
        )
        post.post_authors = [BlogPostAuthor(author=pan), BlogPostAuthor(author=lee)]
        post.references = [BlogPostReference(title="Ref", url="https://example.org/")]
        blog.add_child(instance=post)
        post.tags.add("bulk", f"tag{n % 3}")


@pytest.mark.django_db
def test_queries_per_feed_build_do_not_grow_with_items(seed, client, monkeypatch):
    monkeypatch.setattr(publishing.syndication.feeds, "PAGE_SIZE", 1000)
    from django.core.cache import cache

    counts, added = {}, 0
    for total in (10, 50):
        _add_posts(seed["blog"], total - added, start=added)
        added = total
        for fmt in FORMATS:
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/feeds/blog/{fmt}/")
            assert len(item_titles(response)) == total + 1
            counts[(total, fmt)] = len(queries)
    for fmt in FORMATS:
        assert counts[(10, fmt)] == counts[(50, fmt)], counts

    # A cached feed needs no SQL beyond the cache's own reads.
    client.get("/feeds/blog/atom/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/feeds/blog/atom/")
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) <= 1 and all("cms_cache" in statement for statement in sql), sql


@pytest.mark.django_db
def test_feeds_are_announced_on_the_matching_pages_and_listed_on_home(seed, client):
    def alternates(url):
        content = client.get(url).content.decode()
        return [line.strip() for line in content.splitlines() if 'rel="alternate"' in line], content

    links, home = alternates("/")
    assert len(links) == 6
    assert (
        '<link rel="alternate" type="application/atom+xml" '
        'title="Seeds of Hope (Atom)" href="http://testserver/feeds/events/atom/">' in links
    )
    assert 'href="http://testserver/feeds/blog/json/" type="application/feed+json">' in home
    assert_valid_html(client.get("/").content)

    links, _ = alternates(seed["blog"].url + "?tag=breast-cancer&author=dr-pan")
    hrefs = [link.split('href="')[1].split('"')[0] for link in links]
    assert hrefs[:3] == [f"http://testserver/feeds/blog/tag/breast-cancer/{f}/" for f in FORMATS]
    assert hrefs[3:6] == [f"http://testserver/feeds/blog/author/dr-pan/{f}/" for f in FORMATS]
    assert hrefs[6:] == [f"http://testserver/feeds/blog/{f}/" for f in FORMATS]

    links, _ = alternates(seed["blog"].url + "?tag=../../x")
    assert len(links) == 3

    links, _ = alternates(seed["post"].url)
    assert 'type="application/rss+xml"' in links[0] and "/feeds/blog/rss/" in links[0]
    links, _ = alternates(seed["events"].url)
    assert [link.split('href="')[1][:-2] for link in links] == [
        f"http://testserver/feeds/events/{f}/" for f in FORMATS
    ]
    for url in [seed["blog"].url, seed["post"].url, seed["events"].url]:
        assert_valid_html(client.get(url).content)


@pytest.mark.django_db
def test_last_modified_is_the_newest_item(seed, client):
    response = client.get("/feeds/blog/rss/")
    newest = seed["post"].last_published_at
    assert response["Last-Modified"] == http_date(int(newest.timestamp()))


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fmt, reader_type, browser_type",
    [
        ("rss", "application/rss+xml", "application/xml"),
        ("atom", "application/atom+xml", "application/xml"),
        ("json", "application/feed+json", "application/feed+json"),
    ],
)
def test_browsers_get_xml_feeds_as_xml_so_the_stylesheet_applies(
    seed, client, fmt, reader_type, browser_type
):
    url = f"/feeds/blog/{fmt}/"
    reader = client.get(url, HTTP_ACCEPT=f"{reader_type}, */*;q=0.1")
    browser = client.get(url, HTTP_ACCEPT=BROWSER_ACCEPT)
    assert reader["Content-Type"].split(";")[0] == reader_type
    assert browser["Content-Type"].split(";")[0] == browser_type
    assert reader.content == browser.content
    assert "Accept" in browser["Vary"]
