"""The screener's red-flag items."""

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


class RedFlagItemBlock(blocks.StructBlock):
    """One symptom a reader may tick. Its block id is the stable answer id in the API."""

    text = blocks.CharBlock(label=_("Text"), max_length=500)
    urgency = blocks.ChoiceBlock(
        label=_("Urgency"), choices=URGENCY_CHOICES, default=DOCTOR, required=True
    )

    class Meta:
        icon = "warning"
        preview_value = {"text": "Unexplained fever, nausea or vomiting.", "urgency": DOCTOR}
