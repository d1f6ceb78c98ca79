"""Every public page passes axe-core's WCAG 2.2 A/AA rules in a real Chromium."""

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe

from cms.models import Author, BlogPostReference, EventResourcesPage, EventSession
from tests.factories import make_post

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}


def serious_violations(page) -> list[str]:
    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.fixture
def rich_site(seed, transactional_db):
    """The seed site plus the content a real site has: more posts, tags, links."""
    author = Author.objects.get(slug="dr-pan")
    author.credentials = "MD"
    author.save()
    post = make_post(seed["blog"], "Eating well during treatment", dt.date(2024, 3, 1), author,
                     tags=["nutrition"])  # fmt: skip
    post.references = [BlogPostReference(title="A study", url="https://example.org/s", note="n")]
    post.save_revision().publish()
    event = EventResourcesPage.objects.get(year=2019)
    event.sessions = [EventSession(title="Cooking for recovery", speaker="A. Chef",
                                   video_url="https://example.org/v")]  # fmt: skip
    event.save_revision().publish()
    # The seed keeps the title-only program page a draft (no dead ends); a real one has text.
    from screening.models import ProgramPage

    program = ProgramPage.objects.get()
    program.intro = "<p>Gentle exercises for back pain, ten minutes a day.</p>"
    program.save_revision().publish()
    return seed


@pytest.mark.browser
def test_public_pages_have_no_serious_accessibility_violations(
    rich_site, live_server, browser_page, artifacts_dir
):
    from screening.models import ProgramPage, ScreenerPage

    blog_url = rich_site["blog"].url
    urls = {
        "home": "/",
        "blog": blog_url,
        "blog-tag": f"{blog_url}?tag=nutrition",
        "blog-author": f"{blog_url}?author=dr-pan",
        "post": rich_site["post"].url,
        "seeds-of-hope": rich_site["events"].url,
        "year": EventResourcesPage.objects.get(year=2019).url,
        "screener": ScreenerPage.objects.get().url,
        "program": ProgramPage.objects.get().url,
        "search": "/search/?query=cancer",
        "search-prefix": "/search/?query=arimid",
        "search-suggestion": "/search/?query=arimdex",
        "year-teaser-only": EventResourcesPage.objects.get(year=2018).url,
        "404": "/no-such-page/",
    }
    failures = {}
    for name, url in urls.items():
        response = browser_page.goto(live_server.url + url)
        assert response is not None
        expected = 404 if name == "404" else 200
        assert response.status == expected, f"{name}: HTTP {response.status}"
        assert browser_page.locator("h1").count() == 1, f"{name}: one h1"
        violations = serious_violations(browser_page)
        if violations:
            failures[name] = violations
        if name in {"home", "post"}:
            browser_page.screenshot(path=str(artifacts_dir / f"a11y-{name}.png"), full_page=True)
    assert failures == {}
