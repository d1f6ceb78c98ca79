"""Issue 14, clinical safety: the seeded screener triages as the cited guidance says.

The expected outcomes are a table written by hand from the guidance (not computed by the
rule code), checked for every combination of answers through ``screening.rules.evaluate``,
the JSON API and the HTML form, so the three cannot drift apart.
"""

import itertools
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from screening.blocks import CARE_TEAM, DOCTOR, EMERGENCY, NONE
from screening.models import ScreenerPage, ScreeningOutcomeCount
from screening.rules import OUTCOMES, CombinationRule, ScreenerRules, evaluate
from tests.screening.conftest import csrf_token

# The seed's items, word for word, by letter.
L = "Severe pain, weakness or tingling in your leg(s)."
B = "Difficulty stopping urination or loss of control of bladder or bowels."
F = "Unexplained fever, nausea or vomiting."
C = "A history of cancer or unexplained weight loss."
LETTERS = {"L": L, "B": B, "F": F, "C": C}

# Every combination of answers and the outcome the guidance asks for:
# - B (possible cauda equina syndrome): emergency (NICE CKS Sciatica / Back pain - low:
#   immediate referral; NHS "Cauda equina syndrome": emergency care now).
# - C with L (possible metastatic spinal cord compression; the C item also covers weight
#   loss, read conservatively): emergency (NICE NG234: contact the MSCC coordinator
#   immediately).
# - C otherwise: care team the same day (NICE NG234; NICE NG12).
# - L or F alone or together: talk to your doctor.
EXPECTED = {
    "none": NONE,
    "L": DOCTOR,
    "B": EMERGENCY,
    "F": DOCTOR,
    "C": CARE_TEAM,
    "LB": EMERGENCY,
    "LF": DOCTOR,
    "LC": EMERGENCY,
    "BF": EMERGENCY,
    "BC": EMERGENCY,
    "FC": CARE_TEAM,
    "LBF": EMERGENCY,
    "LBC": EMERGENCY,
    "LFC": EMERGENCY,
    "BFC": EMERGENCY,
    "LBFC": EMERGENCY,
}


def test_the_table_covers_every_combination_once():
    subsets = {"".join(c) for n in range(1, 5) for c in itertools.combinations("LBFC", n)}
    assert set(EXPECTED) == subsets | {"none"}
    assert len(EXPECTED) == 2**4  # 15 non-empty subsets and "None of these"


def answers_for(page: ScreenerPage, key: str) -> list[str]:
    if key == "none":
        return ["none"]
    ids = {item.value["text"]: item.id for item in page.items}
    return [ids[LETTERS[letter]] for letter in key]


@pytest.mark.django_db
def test_seeded_screener_keeps_the_seed_wording_and_grades_by_guidance(screener):
    assert [item.value["text"] for item in screener.items] == [L, B, F, C]
    urgencies = {item.value["text"]: item.value["urgency"] for item in screener.items}
    assert urgencies == {L: DOCTOR, B: EMERGENCY, F: DOCTOR, C: CARE_TEAM}
    sources = {item.value["text"]: item.value["source"] for item in screener.items}
    assert "cauda equina" in sources[B] and "cks.nice.org.uk" in sources[B]
    assert "nhs.uk/conditions/cauda-equina-syndrome" in sources[B]
    assert "NG234" in sources[C] and "NG12" in sources[C]
    [rule] = screener.rules
    assert sorted(rule.value["items"]) == sorted([C, L])
    assert rule.value["urgency"] == EMERGENCY
    assert "NG234" in rule.value["source"] and rule.value["rationale"]
    # Loaded as not yet signed off.
    assert screener.clinical_signoff_at is None and screener.needs_clinical_signoff()


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(EXPECTED))
def test_every_combination_through_rules_api_and_form(key, screener, settings):
    settings.SCREENING_API_RATE_LIMIT = 1000
    answers = answers_for(screener, key)
    expected = EXPECTED[key]
    assert evaluate(screener.screening_rules(), answers) == expected

    api = Client().post(
        reverse("screening:evaluate", args=[screener.pk]),
        json.dumps({"answers": answers}),
        content_type="application/json",
    )
    assert api.status_code == 200, api.content
    assert api.json()["outcome"] == expected
    assert (api.json()["next_url"] is None) == (expected == EMERGENCY)

    browser = Client(enforce_csrf_checks=True)
    token = csrf_token(browser.get(screener.url).content.decode())
    form = browser.post(screener.url, {"csrfmiddlewaretoken": token, "answers": answers})
    content = form.content.decode()
    assert form.status_code == 200
    assert re.findall(r'class="outcome outcome-([a-z_]+)"', content) == [expected]
    # Each submission counted once per path, under its outcome.
    assert ScreeningOutcomeCount.objects.get(outcome=expected).count == 2


@pytest.mark.django_db
def test_api_and_form_call_the_same_rule_code(screener, monkeypatch, settings):
    """Swap the one evaluate function: both paths must follow it (so neither has its own)."""
    import screening.api
    import screening.forms
    import screening.rules

    assert screening.api.evaluate is screening.rules.evaluate
    assert screening.forms.evaluate is screening.rules.evaluate
    seen = []

    def recording(rules, answers):
        seen.append((rules, tuple(answers)))
        return screening.rules.evaluate(rules, answers)

    monkeypatch.setattr(screening.api, "evaluate", recording)
    monkeypatch.setattr(screening.forms, "evaluate", recording)
    answers = answers_for(screener, "LC")
    Client().post(
        reverse("screening:evaluate", args=[screener.pk]),
        json.dumps({"answers": answers}),
        content_type="application/json",
    )
    Client().post(screener.url, {"answers": answers})
    assert len(seen) == 2 and seen[0] == seen[1]
    assert seen[0][0].combinations  # the page's rules reached both


@pytest.mark.django_db
def test_emergency_outcome_leads_with_what_to_do_and_offers_no_program(screener):
    response = Client().post(screener.url, {"answers": answers_for(screener, "B")})
    content = response.content.decode()
    main = content[content.index('<main id="main"') :]
    first_link = re.search(r'<a [^>]*href="([^"]+)"', main).group(1)
    assert first_link == "tel:911"
    assert main.index("tel:911") < main.index("<h1")
    # Said once, not once by the page and again by the message.
    assert main.count("Call 911") == 1 and main.count("tel:911") == 1, main
    assert main.count("nearest emergency department now") == 1
    assert "nearest emergency department" in main
    assert screener.program_page.url not in main
    assert screener.next_page(EMERGENCY) is None


@pytest.mark.django_db
def test_an_emergency_message_without_a_tel_link_still_leads_with_one(screener):
    ScreenerPage.objects.filter(pk=screener.pk).update(
        emergency_message="<p>Go to the emergency department now.</p>"
    )
    response = Client().post(screener.url, {"answers": answers_for(screener, "B")})
    content = response.content.decode()
    main = content[content.index('<main id="main"') :]
    assert main.count('href="tel:911"') == 1
    assert main.index("tel:911") < main.index("Go to the emergency department now.")
    assert main.index("Go to the emergency department now.") < main.index("<h1")


@pytest.mark.django_db
def test_none_outcome_says_what_to_do_if_symptoms_change(screener):
    content = Client().post(screener.url, {"answers": ["none"]}).content.decode()
    assert "If any of these symptoms start, or your pain changes or gets worse" in content
    assert "call your care team" in content
    assert screener.program_page.url in content


@pytest.mark.django_db
def test_care_team_outcome_says_the_same_day_and_invents_no_number(screener):
    content = Client().post(screener.url, {"answers": answers_for(screener, "C")}).content
    text = content.decode()
    assert "Contact your care team today, the same day." in text
    assert "tel:" not in text.split('<main id="main"')[1].split("disclaimer")[0]


# --- rules: monotonic, and only complete combinations fire ------------------------------
URGENCIES = st.sampled_from([DOCTOR, CARE_TEAM, EMERGENCY])


@st.composite
def screeners_and_answers(draw):
    n = draw(st.integers(min_value=1, max_value=7))
    ids = [f"item-{i}" for i in range(n)]
    items = {item_id: draw(URGENCIES) for item_id in ids}
    combinations = ()
    if n >= 2:
        combinations = tuple(
            CombinationRule(
                frozenset(draw(st.lists(st.sampled_from(ids), min_size=2, unique=True))),
                draw(URGENCIES),
            )
            for _ in range(draw(st.integers(min_value=0, max_value=4)))
        )
    smaller = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    extra = draw(st.lists(st.sampled_from(ids), unique=True))
    return ScreenerRules(items, combinations), smaller, list(dict.fromkeys(smaller + extra))


@settings(max_examples=300, deadline=None)
@given(screeners_and_answers())
def test_adding_an_answer_never_lowers_the_urgency(case):
    rules, smaller, larger = case
    rank = OUTCOMES.index
    assert rank(evaluate(rules, larger)) >= rank(evaluate(rules, smaller))
    assert rank(evaluate(rules, smaller)) > rank(evaluate(rules, ["none"]))


@settings(max_examples=300, deadline=None)
@given(screeners_and_answers())
def test_a_combination_counts_only_when_all_its_items_are_picked(case):
    rules, smaller, _larger = case
    picked = set(smaller)
    levels = [rules.items[i] for i in smaller]
    levels += [r.urgency for r in rules.combinations if r.items <= picked]
    expected = max(levels, key=OUTCOMES.index)
    assert evaluate(rules, smaller) == expected
    assert evaluate(rules, list(reversed(smaller))) == expected  # order never matters


# --- validation editors see -------------------------------------------------------------
def set_rules(page: ScreenerPage, *rules: dict) -> None:
    page.rules = [{"type": "rule", "value": rule} for rule in rules]


@pytest.mark.django_db
def test_a_rule_must_name_existing_items_of_this_screener(screener):
    set_rules(
        screener,
        {"items": [C, "Chest pain."], "urgency": EMERGENCY, "source": "x", "rationale": ""},
    )
    with pytest.raises(ValidationError) as exc:
        screener.full_clean()
    message = " ".join(exc.value.message_dict["rules"])
    assert "“Chest pain.” is not an item of this screener" in " ".join(
        exc.value.message_dict["rules"]
    )
    assert message  # readable words, not a code


@pytest.mark.django_db
def test_a_rule_needs_two_different_items(screener):
    set_rules(screener, {"items": [C, C.upper()], "urgency": EMERGENCY, "source": "x"})
    with pytest.raises(ValidationError) as exc:
        screener.full_clean()
    assert "at least two different items" in " ".join(exc.value.message_dict["rules"])


@pytest.mark.django_db
def test_the_block_refuses_one_item_and_unknown_urgencies():
    from screening.blocks import CombinationRuleBlock

    block = CombinationRuleBlock()
    good = block.to_python({"items": [C, L], "urgency": EMERGENCY, "source": "NG234"})
    block.clean(good)
    with pytest.raises(ValidationError) as exc:
        block.clean(block.to_python({"items": [C, C], "urgency": EMERGENCY, "source": "x"}))
    assert "at least two different items" in str(exc.value)
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"items": [C, L], "urgency": "panic", "source": "x"}))


@pytest.mark.django_db
def test_admin_shows_signoff_warning_sources_and_refuses_a_bad_rule(screener, admin_client):
    edit = reverse("wagtailadmin_pages:edit", args=[screener.pk])
    content = admin_client.get(edit).content.decode()
    assert "Not yet clinically signed off." in content
    assert "https://www.nice.org.uk/guidance/ng234" in content
    assert "cauda-equina-syndrome" in content
    dashboard = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Screeners not yet clinically signed off" in dashboard and edit in dashboard

    # A renamed item a rule still names: refused with words, nothing published.
    screener.items = [
        {**block, "value": {**block["value"], "text": "Leg weakness."}}
        if block["value"]["text"] == L
        else block
        for block in screener.items.raw_data
    ]
    with pytest.raises(ValidationError) as exc:
        screener.save_revision()
    assert f"“{L}” is not an item of this screener" in " ".join(exc.value.message_dict["rules"])


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.org", "pw")
    client.force_login(user)
    return client


# --- existing databases -----------------------------------------------------------------
def reseed() -> None:
    from django.core.management import call_command

    call_command("load_seed_content", stdout=open("/dev/null", "w"))  # noqa: SIM115


def downgrade_to_pre_issue_14(page: ScreenerPage) -> ScreenerPage:
    """What a database seeded before issue 14 holds: every item "doctor", no rules."""
    from screening.models import PREVIOUS_DEFAULT_MESSAGES

    page.items = [
        {**b, "value": {"text": b["value"]["text"], "urgency": DOCTOR}} for b in page.items.raw_data
    ]
    page.rules = []
    for field, value in PREVIOUS_DEFAULT_MESSAGES.items():
        setattr(page, field, value)
    page.save_revision().publish()
    return ScreenerPage.objects.get(pk=page.pk)


@pytest.mark.django_db
def test_loader_upgrades_an_untouched_seeded_screener_keeping_item_ids(screener):
    old = downgrade_to_pre_issue_14(screener)
    ids = [item.id for item in old.items]
    reseed()
    page = ScreenerPage.objects.get(pk=screener.pk)
    assert [item.id for item in page.items] == ids  # API clients' answer ids still work
    assert [item.value["urgency"] for item in page.items] == [DOCTOR, EMERGENCY, DOCTOR, CARE_TEAM]
    assert len(page.rules) == 1 and page.clinical_signoff_at is None
    assert "tel:911" in page.emergency_message and "symptoms start" in page.none_message
    assert evaluate(page.screening_rules(), answers_for(page, "LC")) == EMERGENCY
    assert not page.clinical_safety_note
    revisions = page.revisions.count()
    reseed()  # idempotent
    assert ScreenerPage.objects.get(pk=page.pk).revisions.count() == revisions


@pytest.mark.django_db
def test_loader_leaves_an_edited_screener_alone_but_flags_it(screener):
    old = downgrade_to_pre_issue_14(screener)
    raw = list(old.items.raw_data)
    raw[2]["value"]["urgency"] = CARE_TEAM  # an editor's choice
    old.items = raw
    old.save_revision().publish()
    reseed()
    page = ScreenerPage.objects.get(pk=screener.pk)
    assert [item.value["urgency"] for item in page.items] == [DOCTOR, DOCTOR, CARE_TEAM, DOCTOR]
    assert len(page.rules) == 0
    assert "changed by editors" in page.clinical_safety_note


def listblock(values: list[str]) -> dict:
    data = {"count": str(len(values))}
    for index, value in enumerate(values):
        data[str(index)] = {"value": value, "deleted": "", "order": str(index), "id": ""}
    return data


def edit_form_data(page: ScreenerPage, rules: list[dict]) -> dict:
    """What the admin's edit form posts for ``page`` with ``rules`` (JS-built fields too)."""
    from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

    items = [
        ("item", {"text": b.value["text"], "urgency": b.value["urgency"], "source": ""})
        for b in page.items
    ]
    data = nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "question": page.question,
            "items": streamfield(items),
            "rules": streamfield([("rule", {**r, "items": listblock(r["items"])}) for r in rules]),
            "doctor_message": rich_text(page.doctor_message),
            "care_team_message": rich_text(page.care_team_message),
            "emergency_message": rich_text(page.emergency_message),
            "none_message": rich_text(page.none_message),
            "disclaimer": rich_text(page.disclaimer),
            "program_page": page.program_page_id,
            "clinical_signoff_by": "",
            "clinical_safety_note": "",
        }
    )
    for index, block in enumerate(page.items):
        data[f"items-{index}-id"] = block.id
    return data


@pytest.mark.django_db
def test_admin_edit_refuses_a_rule_with_an_unknown_item_in_words(screener, admin_client):
    edit = reverse("wagtailadmin_pages:edit", args=[screener.pk])
    bad = {"items": [C, "Chest pain."], "urgency": EMERGENCY, "source": "x", "rationale": ""}
    response = admin_client.post(edit, edit_form_data(screener, [bad]))
    assert response.status_code == 200  # the form again, not a redirect
    content = response.content.decode()
    assert "Chest pain." in content and "is not an item of this screener" in content
    assert len(ScreenerPage.objects.get(pk=screener.pk).rules) == 1  # nothing saved

    good = {"items": [F, C], "urgency": EMERGENCY, "source": "test", "rationale": ""}
    response = admin_client.post(edit, edit_form_data(screener, [good]))
    assert response.status_code == 302, response.content.decode()[:3000]
    latest = ScreenerPage.objects.get(pk=screener.pk).get_latest_revision_as_object()
    assert [sorted(r.value["items"]) for r in latest.rules] == [sorted([F, C])]
