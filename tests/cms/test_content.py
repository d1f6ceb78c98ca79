"""The shared description of a page's content used by feeds and webhooks."""

import pytest

from cms.content import absolutize, page_content, sanitize
from cms.models import BlogPostReference


@pytest.mark.django_db
def test_post_content_has_absolute_links_authors_tags_and_dates(seed):
    post = seed["post"]
    post.references = [BlogPostReference(title="ATAC", url="https://example.org/atac")]
    post.body = [("paragraph", '<p>See <a href="/news-events/blog/">the blog</a>.</p>')]
    post.save_revision().publish()
    content = page_content(post)
    assert (
        content.url
        == "http://testserver/news-events/blog/breast-cancer-relapse-and-side-effects-arimidex/"
    )
    assert (
        '<a href="http://testserver/news-events/blog/" rel="noopener">the blog</a>' in content.html
    )
    assert '<a href="https://example.org/atac" rel="noopener">ATAC</a>' in content.html
    assert content.summary.startswith("More than a decade ago")
    assert [a.name for a in content.authors] == ["Dr. Pan", "Dr. Lee"]
    assert content.authors[0].url == "http://testserver/news-events/blog/?author=dr-pan"
    assert sorted(content.tags) == ["aromatase inhibitors", "breast cancer"]
    assert content.as_dict()["date"] == "2010-07-01"
    assert content.as_dict()["published_at"].startswith("2010-07-01")


def test_sanitize_removes_script_and_event_handlers():
    dirty = '<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(1)">x</a></p>'
    clean = sanitize(dirty)
    assert "script" not in clean and "onclick" not in clean and "javascript:" not in clean
    assert clean.startswith("<p>Hi")


def test_absolutize_keeps_fragments_and_mailto():
    html = '<a href="#top">t</a><a href="mailto:a@b.org">m</a><img src="/media/x.png" alt="">'
    out = absolutize(html, "https://site.example/post/")
    assert 'href="#top"' in out and 'href="mailto:a@b.org"' in out
    assert 'src="https://site.example/media/x.png"' in out
