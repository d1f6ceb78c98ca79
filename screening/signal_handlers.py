"""Seed the screener and the program page when the site's seed content is loaded.

The seed's wording is kept word for word (``fixtures/seed_screener.json``); the urgencies and
the combination rule are set here, next to the guidance they follow, because the seed page
itself graded every red flag "talk to your doctor" (issue 14). A screener seeded before that
is upgraded only while it is exactly as seeded; one an editor changed is left alone and
flagged for clinical review.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from django.dispatch import receiver
from django.utils.translation import gettext

from cms.management.commands.load_seed_content import child_by_slug, get_or_create_seed_page
from cms.models import HomePage
from cms.signals import seed_content_loading

from .blocks import CARE_TEAM, DOCTOR, EMERGENCY, normalise_item_text

if TYPE_CHECKING:
    from .models import ScreenerPage

logger = logging.getLogger(__name__)

SEED_FILE = Path(__file__).resolve().parent / "fixtures" / "seed_screener.json"

#: What the seed page itself gave every item, before issue 14.
SEED_PAGE_URGENCY = DOCTOR

LEGS = "Severe pain, weakness or tingling in your leg(s)."
BLADDER_BOWEL = "Difficulty stopping urination or loss of control of bladder or bowels."
FEVER = "Unexplained fever, nausea or vomiting."
CANCER_OR_WEIGHT_LOSS = "A history of cancer or unexplained weight loss."

NG234 = (
    "NICE NG234 Spinal metastases and metastatic spinal cord compression (2023), "
    "https://www.nice.org.uk/guidance/ng234"
)
CKS_SCIATICA = "NICE CKS Sciatica (lumbar radiculopathy), https://cks.nice.org.uk/topics/sciatica-lumbar-radiculopathy/"
CKS_LOW_BACK = (
    "NICE CKS Back pain - low (without radiculopathy), "
    "https://cks.nice.org.uk/topics/back-pain-low-without-radiculopathy/"
)

#: Item text -> (urgency, source shown to editors). Texts are the seed's, exactly.
SEED_ITEM_GRADING: dict[str, tuple[str, str]] = {
    # Leg symptoms alone: assessment by a doctor. NICE CKS Sciatica manages radicular leg pain
    # and tingling in primary care, but *progressive or bilateral* weakness needs urgent
    # referral; the seed's one sentence cannot tell them apart, so the clinician signing off
    # must confirm "doctor" (it is escalated to emergency with a cancer history by the rule).
    LEGS: (
        DOCTOR,
        f"{CKS_SCIATICA}: leg pain, numbness or weakness without other red flags is assessed "
        "by a doctor; severe or progressive neurological deficit needs urgent referral "
        "(to be confirmed at clinical sign-off).",
    ),
    # Possible cauda equina syndrome: emergency. NICE CKS (Sciatica; Back pain - low): suspected
    # cauda equina syndrome -> immediate referral to A&E / emergency assessment. NHS "Cauda
    # equina syndrome": go to A&E or call the emergency number now.
    BLADDER_BOWEL: (
        EMERGENCY,
        f"{CKS_SCIATICA}; {CKS_LOW_BACK}: suspected cauda equina syndrome needs immediate "
        "emergency referral. NHS, Cauda equina syndrome, "
        "https://www.nhs.uk/conditions/cauda-equina-syndrome/: get emergency care immediately.",
    ),
    # Fever, nausea or vomiting: doctor, as the department's guidance says. Flagged for
    # sign-off: on a cancer-care site fever during chemotherapy can be neutropenic sepsis
    # (NICE NG151: emergency), and fever with back pain can be spinal infection (CKS: urgent).
    FEVER: (
        DOCTOR,
        f"{CKS_LOW_BACK}: fever with back pain needs assessment by a doctor (spinal infection "
        "is urgent). To confirm at clinical sign-off: fever during chemotherapy is an "
        "emergency (NICE NG151 Neutropenic sepsis, https://www.nice.org.uk/guidance/ng151).",
    ),
    # One sentence, two symptoms: a history of cancer (NICE NG234: back pain suggestive of
    # spinal metastases -> contact the acute oncology / MSCC team, within 24 hours) OR
    # unexplained weight loss (NICE NG12: a possible undiagnosed cancer, urgent
    # investigation). Mapped to the more urgent reading: the care team, the same day.
    CANCER_OR_WEIGHT_LOSS: (
        CARE_TEAM,
        f"{NG234}: back pain suggestive of spinal metastases in someone with cancer -> contact "
        "the acute oncology / MSCC team without delay (within 24 hours). NICE NG12 Suspected "
        "cancer: recognition and referral, https://www.nice.org.uk/guidance/ng12: unexplained "
        "weight loss needs urgent investigation.",
    ),
}

#: Combinations that mean more than their items. Conservative on purpose: the cancer item
#: also covers "unexplained weight loss" alone, and weight loss with new neurological leg
#: symptoms may be an undiagnosed spinal metastasis, so the rule fires for either reading.
SEED_RULES: list[dict] = [
    {
        "items": [CANCER_OR_WEIGHT_LOSS, LEGS],
        "urgency": EMERGENCY,
        # NICE NG234 (2023): pain with neurological symptoms (limb weakness, tingling) in
        # someone with cancer may be metastatic spinal cord compression -> contact the MSCC
        # coordinator immediately; when in doubt, err towards urgency.
        "source": f"{NG234}: back pain with neurological symptoms in someone with cancer is "
        "suspected metastatic spinal cord compression; contact the MSCC coordinator "
        "immediately.",
        "rationale": "Cancer history (or unexplained weight loss) with severe pain, weakness "
        "or tingling in the legs is the picture of metastatic spinal cord compression; "
        "treatment within hours protects the ability to walk.",
    },
]


def seed_items(texts: list[str], urgency: str | None = None) -> list[dict]:
    """StreamField data for the seed items: graded by guidance, or all at ``urgency``."""
    items = []
    for text in texts:
        graded, source = SEED_ITEM_GRADING.get(text, (DOCTOR, ""))
        value = {"text": text, "urgency": urgency or graded, "source": "" if urgency else source}
        items.append({"type": "item", "value": value})
    return items


def seed_rules() -> list[dict]:
    return [{"type": "rule", "value": dict(rule)} for rule in SEED_RULES]


@receiver(seed_content_loading)
def create_seed_screener(sender, home: HomePage, **kwargs) -> int:
    from .models import ProgramPage, ScreenerPage

    seed = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    program, program_created = get_or_create_seed_page(home, ProgramPage, seed["program"])
    data = dict(seed["screener"])
    existing = child_by_slug(home, ScreenerPage, data["slug"])
    if existing is not None:
        return int(program_created) + int(upgrade_seed_screener(existing, data["items"]))
    data["items"] = json.dumps(seed_items(data["items"]))
    data["rules"] = json.dumps(seed_rules())
    data["program_page"] = program
    _screener, screener_created = get_or_create_seed_page(home, ScreenerPage, data)
    return int(program_created) + int(screener_created)


def upgrade_seed_screener(page: ScreenerPage, texts: list[str]) -> bool:
    """Give a screener seeded before issue 14 the guidance's urgencies, if nobody edited it.

    "Nobody edited it": the same item texts in the same order, every one still the seed
    page's "talk to your doctor", no rules, no unpublished draft. Anything else is an editor's
    work and is left alone, but flagged (a note in the admin panel, a warning in the log).
    True when the page was upgraded.
    """
    from .models import PREVIOUS_DEFAULT_MESSAGES

    current = [(item.value["text"], item.value["urgency"]) for item in page.items]
    graded = [(item["value"]["text"], item["value"]["urgency"]) for item in seed_items(texts)]
    seed_rule_refs = [
        sorted(normalise_item_text(text) for text in rule["items"]) for rule in SEED_RULES
    ]
    page_rule_refs = [
        sorted(normalise_item_text(text) for text in rule.value["items"]) for rule in page.rules
    ]
    if current == graded and page_rule_refs == seed_rule_refs:
        return False  # already upgraded (or seeded after issue 14)
    untouched = (
        current == [(text, SEED_PAGE_URGENCY) for text in texts]
        and not page_rule_refs
        and not page.has_unpublished_changes
    )
    if not untouched:
        if not page.clinical_safety_note:
            note = gettext(
                "This screener was changed by editors, so the seed loader did not apply the "
                "guidance-based urgencies (bladder/bowel: emergency; cancer history with leg "
                "symptoms: emergency; cancer history or weight loss: care team the same day). "
                "A clinician should check its items and rules against the cited guidance."
            )
            type(page).objects.filter(pk=page.pk).update(clinical_safety_note=note)
            logger.warning(
                "screener %s: edited since seeding; safer urgencies not applied", page.pk
            )
        return False
    raw = list(page.items.raw_data)
    for block, (_text, urgency) in zip(raw, graded, strict=True):
        grading = SEED_ITEM_GRADING.get(block["value"]["text"])
        block["value"]["urgency"] = urgency
        block["value"]["source"] = grading[1] if grading else ""
    page.items = raw
    page.rules = seed_rules()
    for field, previous in PREVIOUS_DEFAULT_MESSAGES.items():
        if getattr(page, field) == previous:
            setattr(page, field, page._meta.get_field(field).get_default())
    page.clinical_signoff_at = None
    page.clinical_signoff_by = ""
    page.save_revision().publish()
    logger.info("screener %s: upgraded to the guidance-based urgencies", page.pk)
    return True
