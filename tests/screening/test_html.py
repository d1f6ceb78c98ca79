"""The reader's flow without JavaScript: form, errors, outcomes, CSRF, headers."""

import html
import re

import pytest
from django.test import Client
from wagtail.models import PageViewRestriction

from screening.models import ScreeningOutcomeCount
from tests.cms.test_site import assert_valid_html
from tests.screening.conftest import csrf_token

SEED_DOCTOR_WORDS = [
    "We understand that you are experiencing one or more of the health issues that might be "
    "impacting your back pain.",
    "We recommend that you discuss these health issues with your doctor before proceeding with "
    "this program.",
    "Once you are cleared by your doctor to do this program, we hope it helps you find relief "
    "from your back pain.",
]
SEED_ITEMS = [
    "Severe pain, weakness or tingling in your leg(s).",
    "Difficulty stopping urination or loss of control of bladder or bowels.",
    "Unexplained fever, nausea or vomiting.",
    "A history of cancer or unexplained weight loss.",
]


@pytest.fixture
def browser():
    """A client that enforces CSRF, like a real browser session."""
    return Client(enforce_csrf_checks=True)


def submit(browser, page, answers):
    form = browser.get(page.url)
    return browser.post(
        page.url, {"csrfmiddlewaretoken": csrf_token(form.content.decode()), "answers": answers}
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def item_ids(page) -> list[str]:
    return [item.id for item in page.items]


@pytest.mark.django_db
def test_form_has_fieldset_legend_a_checkbox_per_item_and_an_exclusive_none(screener, browser):
    response = browser.get(screener.url)
    content = text(response)
    assert "<legend>Are you having back pain with any of the following?</legend>" in content
    boxes = re.findall(
        r'<input type="checkbox" id="answer-([^"]+)" name="answers" value="([^"]+)"', content
    )
    assert [value for _id, value in boxes] == [*item_ids(screener), "none"]
    assert all(box_id == value for box_id, value in boxes)
    for label in SEED_ITEMS:
        assert label in content
    assert '<label for="answer-none">None of these</label>' in content
    assert "checked" not in content  # nothing pre-selected
    assert "<script" not in without_json_ld(content)  # JSON-LD is data, never run
    assert "This screener does not diagnose any condition and is not for emergencies." in content
    assert 'method="post"' in content and "csrfmiddlewaretoken" in content
    assert "no-store" in response["Cache-Control"]
    assert_valid_html(response.content)


def without_json_ld(content: str) -> str:
    return re.sub(r'<script type="application/ld\+json">.*?</script>', "", content, flags=re.S)


@pytest.mark.django_db
def test_no_third_party_resources_on_form_or_outcome(graded_screener, browser):
    ids = item_ids(graded_screener)
    pages = [browser.get(graded_screener.url), submit(browser, graded_screener, [ids[1]])]
    for response in pages:
        content = response.content.decode()
        for attr, url in re.findall(r'(src|href)="([^"]+)"', content):
            assert not url.startswith(("http://", "https://", "//")) or url.startswith(
                "http://testserver/"
            ), f"third-party {attr}: {url}"
        content = without_json_ld(content)
        assert "<script" not in content and "<iframe" not in content and "@import" not in content


@pytest.mark.django_db
def test_seed_outcome_is_the_seed_wording_with_a_later_link_to_the_program(screener, browser):
    response = submit(browser, screener, [item_ids(screener)[0]])
    content = text(response)
    assert response.status_code == 200
    for sentence in SEED_DOCTOR_WORDS:
        assert sentence in content
    assert "Talk to your doctor first" in content
    assert 'href="/back-pain-screener/back-pain-program/"' not in content  # not a child
    assert re.search(r'<a href="/back-pain-program/">Back Pain Program</a>', content)
    assert "no-store" in response["Cache-Control"]
    assert "<legend>" not in content  # the outcome, not the form
    assert_valid_html(response.content)


@pytest.mark.django_db
def test_seed_doctor_outcome_keeps_the_seed_words(screener, browser):
    """Leg symptoms and fever alone stay "talk to your doctor", in the seed page's words."""
    leg, _bladder, fever, _history = item_ids(screener)
    for picks in ([leg], [fever], [leg, fever]):
        content = text(submit(browser, screener, picks))
        assert all(words in content for words in SEED_DOCTOR_WORDS)


@pytest.mark.django_db
def test_none_of_these_gives_a_clear_link_on_to_the_program(screener, browser):
    content = text(submit(browser, screener, ["none"]))
    assert "You can go on to the program" in content
    assert (
        '<a class="button-link" href="/back-pain-program/">Continue to the Back Pain Program</a>'
        in content
    )
    assert SEED_DOCTOR_WORDS[1] not in content


@pytest.mark.django_db
def test_highest_urgency_decides_and_emergency_stops_the_journey(graded_screener, browser):
    leg, bladder, fever, history = item_ids(graded_screener)
    care = text(submit(browser, graded_screener, [fever, history]))
    assert "Contact your care team today" in care
    assert "Contact your care team today, the same day." in care
    assert "/back-pain-program/" in care

    emergency = text(submit(browser, graded_screener, [leg, bladder, fever, history]))
    assert "Emergency: call 911 or go to the emergency room now" in emergency
    assert "Call 911</a> or go to the nearest emergency department now." in emergency
    assert "/back-pain-program/" not in emergency
    assert "Back Pain Program</a>" not in emergency


@pytest.mark.django_db
def test_submitting_nothing_shows_a_summary_linked_to_the_field(screener, browser):
    response = submit(browser, screener, [])
    content = text(response)
    assert response.status_code == 200
    first = item_ids(screener)[0]
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', content, re.S).group(0)
    assert "There is a problem" in summary
    assert f'href="#answer-{first}"' in summary
    assert (
        "Select at least one answer. If you have none of them, select “None of these”." in summary
    )
    assert content.index("error-summary") < content.index('<form method="post"')
    assert 'aria-describedby="answers-hint answers-error"' in content
    assert '<p id="answers-error" class="error-message">' in content
    assert f'id="answer-{first}"' in content
    assert "<title>Error: " in content
    assert "no-store" in response["Cache-Control"]
    assert ScreeningOutcomeCount.objects.count() == 0
    assert_valid_html(response.content)


@pytest.mark.django_db
def test_none_with_items_is_a_form_error_that_says_so_and_keeps_the_ticks(screener, browser):
    first = item_ids(screener)[0]
    content = text(submit(browser, screener, ["none", first]))
    assert "“None of these” cannot be selected together with other answers." in content
    assert re.search(rf'value="{first}" checked', content)
    assert re.search(r'value="none" checked', content)
    assert ScreeningOutcomeCount.objects.count() == 0


@pytest.mark.django_db
def test_an_item_removed_since_the_form_was_opened_asks_to_check_again(screener, browser):
    content = text(submit(browser, screener, ["3c0ffee0-0000-0000-0000-000000000000"]))
    assert "This screener has changed since you opened it." in content
    assert ScreeningOutcomeCount.objects.count() == 0


@pytest.mark.django_db
def test_post_without_csrf_token_is_refused(screener, browser):
    browser.get(screener.url)
    response = browser.post(screener.url, {"answers": ["none"]})
    assert response.status_code == 403
    assert ScreeningOutcomeCount.objects.count() == 0


@pytest.mark.django_db
def test_outcome_is_rendered_in_the_post_response_never_a_redirect(screener, browser):
    response = submit(browser, screener, ["none"])
    assert response.status_code == 200
    assert "Location" not in response
    assert set(response.cookies) <= {"csrftoken"}
    assert not browser.session.items()
    count = ScreeningOutcomeCount.objects.get()
    assert (count.outcome, count.count, count.screener_id) == ("none", 1, screener.pk)


@pytest.mark.django_db
def test_private_and_expired_screeners_are_not_served(screener, client):
    import datetime as dt

    from django.utils import timezone

    from screening.models import ScreenerPage

    restriction = PageViewRestriction.objects.create(
        page=screener, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    response = client.get(screener.url)
    assert "<legend>" not in response.content.decode()
    restriction.delete()
    ScreenerPage.objects.filter(pk=screener.pk).update(
        expire_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(screener.url).status_code == 404
    assert client.post(screener.url, {"answers": ["none"]}).status_code == 404
