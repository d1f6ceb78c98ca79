"""A reader's journeys in real Chromium with JavaScript off: search, the screener, the footer.

JavaScript is off because reader pages must work without it (they run none).
"""

import datetime as dt

import pytest

from cms.models import Author, ReaderTrustSettings
from tests.factories import make_post
from tests.services import close_context


@pytest.fixture
def reader(browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    close_context(context)


@pytest.mark.browser
def test_searching_chemo_finds_the_chemotherapy_post(seed, transactional_db, live_server, reader):
    author = Author.objects.get(slug="dr-pan")
    make_post(seed["blog"], "Exercise during chemotherapy", dt.date(2024, 5, 2), author)
    reader.goto(live_server.url + "/")
    reader.fill("#site-search-query", "chemo")
    reader.press("#site-search-query", "Enter")
    reader.wait_for_url("**/search/?query=chemo")
    result = reader.locator(".search-results li").first
    assert result.locator("h2 a").inner_text() == "Exercise during chemotherapy"
    assert result.locator(".result-type").inner_text() == "Blog post"
    assert result.locator("time").get_attribute("datetime") == "2024-05-02"
    result.locator("h2 a").click()
    assert reader.locator("h1").inner_text() == "Exercise during chemotherapy"


@pytest.mark.browser
def test_the_screeners_none_path_never_lands_on_an_empty_page(
    seed, transactional_db, live_server, reader
):
    from screening.models import ProgramPage, ScreenerPage

    screener = ScreenerPage.objects.get()

    def answer_none() -> None:
        reader.goto(live_server.url + screener.url)
        reader.check("#answer-none")
        reader.click("button[type=submit] >> text=Continue")
        reader.wait_for_selector("#outcome-heading")

    # As seeded, the program page has nothing in it: no link to it, but a way on.
    answer_none()
    assert reader.locator("a.button-link").count() == 0
    assert "What to do next" in reader.locator("main").inner_text()
    reader.click("main >> text=How to contact us")
    assert reader.locator("#contact").is_visible()
    # Once the department writes the program page, the reader is sent to it, and it has text.
    program = ProgramPage.objects.get()
    program.intro = "<p>Gentle exercises for back pain, ten minutes a day.</p>"
    program.save_revision().publish()
    answer_none()
    reader.click("a.button-link")
    assert reader.locator("h1").inner_text() == program.title
    assert "Gentle exercises for back pain" in reader.locator("main").inner_text()


@pytest.mark.browser
def test_footer_links_and_contact_block_render_from_settings(
    seed, transactional_db, live_server, reader
):
    settings_row = ReaderTrustSettings.objects.get()
    page = reader
    page.goto(live_server.url + "/")
    footer = page.locator("footer")
    assert "[Placeholder: department phone]" in footer.inner_text()
    assert footer.locator("a[href^='tel:']").count() == 0
    settings_row.phone = "+1 408 555 0100"
    settings_row.hours = "Monday to Friday, 8 am to 5 pm"
    settings_row.privacy_url = "https://example.org/privacy"
    settings_row.accessibility_url = "https://example.org/accessibility"
    settings_row.non_discrimination_url = "https://example.org/non-discrimination"
    settings_row.language_assistance = "Interpreters are free: call 408 555 0101."
    settings_row.save()
    page.goto(live_server.url + seed["post"].url)
    footer = page.locator("footer")
    assert footer.locator("a[href='tel:+14085550100']").inner_text() == "+1 408 555 0100"
    assert "Monday to Friday, 8 am to 5 pm" in footer.locator(".contact-block").inner_text()
    links = footer.locator(".footer-links a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "https://example.org/privacy",
        "https://example.org/accessibility",
        "https://example.org/non-discrimination",
    ]
    assert footer.locator(".language-assistance").inner_text() == (
        "Interpreters are free: call 408 555 0101."
    )


@pytest.mark.browser
def test_the_feed_stylesheet_makes_a_readable_page(seed, transactional_db, live_server, browser):
    """A click on the RSS or Atom link shows a readable page (static/feeds/feed.xsl).

    Chromium applies XSLT only to XML types: the feed view answers a browser (one that
    asks for HTML) with ``application/xml``, and feed readers with the feed's own type.
    """
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        for fmt in ("rss", "atom"):
            page.goto(f"{live_server.url}/feeds/blog/{fmt}/")
            page.wait_for_selector("#subscribe-heading")
            assert page.locator("h1").inner_text() == seed["blog"].title
            assert f"/feeds/blog/{fmt}/" in page.locator(".next-steps code").inner_text()
            assert page.locator("main a", has_text=seed["post"].title).count() == 1
    finally:
        close_context(context)
