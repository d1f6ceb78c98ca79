"""axe-core in headless Chromium: the form, the form with errors and every outcome page."""

import json
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.screening.conftest import publish_items
from tests.services import close_context

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}


def assert_no_serious_violations(page, axe: Axe, name: str, artifacts: Path) -> None:
    page.screenshot(path=str(artifacts / f"screener-{name}.png"), full_page=True)
    results = axe.run(page, options=AXE_OPTIONS).response
    assert results["testEngine"]["name"] == "axe-core"
    # The rules really ran: the page's own content passed the checks that concern it.
    assert {"document-title", "html-has-lang"} <= {rule["id"] for rule in results["passes"]}
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    summary = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in blocking
    ]
    assert blocking == [], f"{name}: {json.dumps(summary, indent=1)}"


@pytest.mark.browser
def test_screener_pages_have_no_serious_or_critical_violations(
    screener, live_server, browser, artifacts_dir
):
    page_obj = publish_items(screener, ["doctor", "emergency", "doctor", "care_team"])
    url = live_server.url + page_obj.url
    leg, bladder, fever, history = (item.id for item in page_obj.items)
    axe = Axe()
    # The session's one browser (tests/conftest.py): a second Playwright in the same
    # process would find the first one's event loop running.
    context = browser.new_context(java_script_enabled=True)
    try:
        page = context.new_page()
        outside = []
        page.on(
            "request",
            lambda request: (
                None if request.url.startswith(live_server.url) else outside.append(request.url)
            ),
        )

        page.goto(url)
        assert page.locator("fieldset legend").inner_text().startswith("Are you having")
        assert_no_serious_violations(page, axe, "form", artifacts_dir)

        page.get_by_role("button", name="Continue").click()
        page.wait_for_selector(".error-summary")
        assert_no_serious_violations(page, axe, "form-errors", artifacts_dir)
        # The summary's link takes keyboard users to the field.
        page.locator(".error-summary a").first.click()
        assert page.evaluate("document.activeElement.id") == f"answer-{leg}"
        described = page.locator("fieldset").get_attribute("aria-describedby")
        assert "answers-error" in described.split()

        for name, picks, heading in [
            ("none", ["none"], "You can go on to the program"),
            ("doctor", [leg, fever], "Talk to your doctor first"),
            ("care-team", [fever, history], "Contact your care team today"),
            ("emergency", [history, bladder], "Emergency: call 911"),
        ]:
            page.goto(url)
            for pick in picks:
                page.locator(f"#answer-{pick}").check()
            page.get_by_role("button", name="Continue").click()
            page.wait_for_selector("#outcome-heading")
            assert heading in page.locator("#outcome-heading").inner_text()
            assert page.url == url  # POST-rendered: nothing in the address
            assert_no_serious_violations(page, axe, f"outcome-{name}", artifacts_dir)
        assert outside == [], f"requests left the site: {outside}"
    finally:
        close_context(context)
