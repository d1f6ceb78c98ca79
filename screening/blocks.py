"""The screener's red-flag items and the combination rules that escalate them."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

DOCTOR = "doctor"
CARE_TEAM = "care_team"
EMERGENCY = "emergency"
NONE = "none"

URGENCY_CHOICES = [
    (DOCTOR, _("Talk to your doctor first")),
    (CARE_TEAM, _("Contact your care team today")),
    (EMERGENCY, _("Emergency: call 911 or go to the emergency room now")),
]

SOURCE_HELP = _(
    "The published guidance this urgency follows (title, year and link), so a clinician "
    "reviewing the screener can check it."
)


def normalise_item_text(text: str) -> str:
    """How a rule's item reference is compared with an item's text: case and spacing ignored."""
    return " ".join(str(text).split()).casefold()


class RedFlagItemBlock(blocks.StructBlock):
    """One symptom a reader may tick. Its block id is the stable answer id in the API."""

    text = blocks.CharBlock(label=_("Text"), max_length=500)
    urgency = blocks.ChoiceBlock(
        label=_("Urgency"), choices=URGENCY_CHOICES, default=DOCTOR, required=True
    )
    source = blocks.TextBlock(label=_("Source"), required=False, help_text=SOURCE_HELP)

    class Meta:
        icon = "warning"
        preview_value = {"text": "Unexplained fever, nausea or vomiting.", "urgency": DOCTOR}


class CombinationRuleBlock(blocks.StructBlock):
    """Items that together mean more than each alone (cancer history + leg symptoms: MSCC).

    Items are referred to by their text, so a rule reads the same in the admin, the API and
    the seed file; the page checks every reference against its own items before publishing,
    so changing an item's wording makes the editor revisit the rules that name it.
    """

    items = blocks.ListBlock(
        blocks.CharBlock(label=_("Item"), max_length=500),
        label=_("Items, all together"),
        min_num=2,
        help_text=_(
            "Copy each item's text from the red-flag items above (at least two different "
            "items). The rule applies when a reader selects all of them."
        ),
    )
    urgency = blocks.ChoiceBlock(
        label=_("Urgency"), choices=URGENCY_CHOICES, default=EMERGENCY, required=True
    )
    source = blocks.TextBlock(label=_("Source"), required=True, help_text=SOURCE_HELP)
    rationale = blocks.TextBlock(
        label=_("Rationale"),
        required=False,
        help_text=_("In a sentence, why these together need this urgency."),
    )

    class Meta:
        icon = "link"
        label = _("Combination rule")
        preview_value = {
            "items": [
                "A history of cancer or unexplained weight loss.",
                "Severe pain, weakness or tingling in your leg(s).",
            ],
            "urgency": EMERGENCY,
            "source": "NICE NG234 (2023)",
        }

    def clean(self, value):
        """At least two *different* items: one item alone is what its own urgency is for."""
        value = super().clean(value)
        distinct = {normalise_item_text(text) for text in value["items"]}
        if len(distinct) < 2:
            raise ValidationError(
                _("A combination rule needs at least two different items; this one names %d.")
                % len(distinct)
            )
        return value
