"""Readers: trust signals from site settings, no dead ends, search that finds, feeds for people."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from wagtail.models import Page, PageViewRestriction

from cms.management.commands.load_seed_content import TRUST_PLACEHOLDERS
from cms.models import Author, EventResourcesPage, NavigationItem, ReaderTrustSettings
from cms.models.site_settings import contrast_with_white, validate_brand_colour
from cms.reading import has_reader_content
from cms.search import did_you_mean, parse_search
from tests.factories import make_post


def trust() -> ReaderTrustSettings:
    return ReaderTrustSettings.objects.get()


# --- Trust signals -------------------------------------------------------------------


def test_brand_colour_must_keep_white_text_readable():
    assert contrast_with_white("#0b5d7a") > 7
    validate_brand_colour("#0b5d7a")
    with pytest.raises(ValidationError, match="contrast"):
        validate_brand_colour("#7fb3d5")  # light blue: white text on it is unreadable
    with pytest.raises(ValidationError, match="six hexadecimal"):
        validate_brand_colour("blue")


@pytest.mark.parametrize(
    ("phone", "href"),
    [
        ("+1 (408) 555-0100", "tel:+14085550100"),
        ("408 555 0100", "tel:4085550100"),
        ("[Placeholder: department phone]", ""),
        ("", ""),
    ],
)
def test_phone_is_a_tel_link_only_when_it_is_a_number(phone, href):
    assert ReaderTrustSettings(phone=phone).phone_href == href


@pytest.mark.django_db
def test_seed_marks_every_trust_signal_as_a_placeholder_and_runs_once(seed):
    settings_row = trust()
    for field, value in TRUST_PLACEHOLDERS.items():
        assert getattr(settings_row, field) == value
        assert value.startswith("[Placeholder:")
    assert [link["url"] for link in settings_row.footer_links] == ["", "", ""]
    settings_row.phone = "+1 408 555 0100"
    settings_row.save()
    call_command("load_seed_content", verbosity=0)
    assert ReaderTrustSettings.objects.count() == 1
    assert trust().phone == "+1 408 555 0100", "an editor's value is never overwritten"


@pytest.mark.django_db
def test_footer_contact_block_and_menu_render_from_settings(seed, client):
    settings_row = trust()
    settings_row.phone = "+1 408 555 0100"
    settings_row.address = "1 Example Way\nSanta Clara"
    settings_row.privacy_url = "https://example.org/privacy"
    settings_row.accessibility_url = "https://example.org/a11y"
    settings_row.non_discrimination_url = "https://example.org/nd"
    settings_row.language_assistance = "Free interpreters: call 408 555 0101."
    settings_row.save()
    content = client.get("/").content.decode()
    assert '<a href="tel:+14085550100">+1 408 555 0100</a>' in content
    assert "<address>1 Example Way<br>Santa Clara</address>" in content
    assert '<a href="https://example.org/privacy">Privacy notice</a>' in content
    assert '<a href="https://example.org/a11y">Accessibility</a>' in content
    assert '<a href="https://example.org/nd">Non-discrimination notice</a>' in content
    assert "Free interpreters: call 408 555 0101." in content
    # The menu names sections, not page titles.
    menu = content.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert '<a href="/back-pain-screener/">Back Pain Program</a>' in menu
    assert "Before You Start" not in menu


@pytest.mark.django_db
def test_a_settings_change_shows_on_the_next_request_despite_the_page_cache(seed, client):
    assert client.get("/").status_code == 200
    assert client.get("/")["X-Cache"] == "hit"
    item = NavigationItem.objects.get(label="News & Events")
    item.label = "News"
    item.save()
    content = client.get("/").content.decode()
    assert '<a href="/news-events/">News</a>' in content


@pytest.mark.django_db
def test_menu_leaves_out_a_section_readers_may_not_see(seed, client):
    news = Page.objects.get(slug="news-events")
    PageViewRestriction.objects.create(page=news, restriction_type=PageViewRestriction.LOGIN)
    content = client.get("/").content.decode()
    assert 'href="/news-events/">News &amp; Events</a>' not in content


@pytest.mark.django_db
def test_brand_colour_comes_as_a_versioned_stylesheet(seed, client):
    assert "/theme.css" not in client.get("/").content.decode(), "default: no extra request"
    settings_row = trust()
    settings_row.brand_colour = "#5a2d82"
    settings_row.save()
    content = client.get("/").content.decode()
    assert '<link rel="stylesheet" href="/theme.css?v=5a2d82">' in content
    css = client.get("/theme.css?v=5a2d82")
    assert css["Content-Type"].startswith("text/css")
    assert "--brand: #5a2d82" in css.content.decode()


@pytest.mark.django_db
def test_favicon_is_linked_and_favicon_ico_does_not_404(seed, client):
    content = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in content
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"


@pytest.mark.django_db
def test_meta_description_comes_from_the_summary(seed, client):
    content = client.get(seed["post"].url).content.decode()
    assert '<meta name="description" content="More than a decade ago' in content


# --- No dead ends --------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_publishes_no_page_without_content(seed):
    from screening.models import ProgramPage

    for page in Page.objects.live().exclude(depth=1).specific():
        assert has_reader_content(page), f"{page.title} is live with nothing to read"
    program = ProgramPage.objects.get()
    assert not program.live and program.has_unpublished_changes, "kept as a draft"


@pytest.mark.django_db
def test_a_year_with_only_a_teaser_says_what_it_is_and_where_to_go(seed, client):
    year = EventResourcesPage.objects.get(year=2018)
    content = client.get(year.url).content.decode()
    assert "This page is the record of Seeds of Hope 2018." in content
    assert f'<a href="{seed["events"].url}">Every Seeds of Hope year</a>' in content
    assert 'href="#contact"' in content and 'id="contact"' in content
    index = client.get(seed["events"].url).content.decode()
    assert "Seeds of Hope is our yearly community-education event." in index


@pytest.mark.django_db
def test_screener_none_offers_the_program_only_when_it_has_content(seed, client):
    from screening.models import ProgramPage, ScreenerPage

    screener = ScreenerPage.objects.get()
    program = ProgramPage.objects.get()
    page = client.get(screener.url).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    answer = {"answers": ["none"], "csrfmiddlewaretoken": token}
    content = client.post(screener.url, answer).content.decode()
    assert program.url not in content, "the program page is a draft with nothing in it"
    assert "What to do next" in content and 'href="#contact"' in content
    # Published, but still empty (as on sites seeded before): still no link.
    program.save_revision().publish()
    content = client.post(screener.url, answer).content.decode()
    assert f'href="{program.url}"' not in content
    program.intro = "<p>Ten minutes of gentle exercises a day.</p>"
    program.save_revision().publish()
    content = client.post(screener.url, answer).content.decode()
    assert f'<a class="button-link" href="{program.url}">' in content


# --- Search that finds ---------------------------------------------------------------


@pytest.mark.django_db
def test_search_finds_word_beginnings_with_type_and_date(seed, client):
    author = Author.objects.get(slug="dr-pan")
    make_post(seed["blog"], "Exercise during chemotherapy", dt.date(2024, 5, 2), author)
    content = client.get("/search/?query=chemo").content.decode()
    assert ">Exercise during chemotherapy</a>" in content
    assert '<span class="result-type">Blog post</span>' in content
    assert '<time datetime="2024-05-02">May 02, 2024</time>' in content


@pytest.mark.django_db
def test_did_you_mean_offers_an_indexed_word(seed, client):
    content = client.get("/search/?query=arimdex").content.decode()
    assert 'Did you mean <a href="/search/?query=arimidex">arimidex</a>?' in content
    assert "Did you mean" not in client.get("/search/?query=zzzzqqq").content.decode()


@pytest.mark.django_db
def test_did_you_mean_never_names_a_hidden_page(seed):
    author = Author.objects.get(slug="dr-pan")
    make_post(seed["blog"], "Zolendronate draft", dt.date(2024, 5, 2), author, publish=False)
    assert did_you_mean(parse_search("zolendronat")) == ""
    make_post(
        seed["blog"], "Zolendronate guide", dt.date(2024, 5, 2), author, tags=["bisphosphonates"]
    )
    assert did_you_mean(parse_search("zolendronat")) == "zolendronate"
    assert did_you_mean(parse_search("bisphosphonate")) == "bisphosphonates"


def test_did_you_mean_keeps_known_and_short_words():
    vocabulary = {"chemotherapy", "cancer"}
    assert did_you_mean(parse_search("cancr of"), vocabulary) == "cancer of"
    assert did_you_mean(parse_search("cancer"), vocabulary) == ""


# --- Feeds for people ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feeds_carry_the_stylesheet_instruction(seed, client, fmt):
    body = client.get(f"/feeds/blog/{fmt}/").content.decode()
    assert body.startswith(
        '<?xml version="1.0" encoding="utf-8"?>'
        '<?xml-stylesheet href="/static/feeds/feed.xsl" type="text/xsl"?>'
    )
