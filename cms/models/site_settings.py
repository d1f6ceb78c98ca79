"""What a reader needs to trust the site: who runs it, how to reach them, and the notices.

Site settings (``wagtail.contrib.settings``), one row per site, edited under Settings →
"Reader trust signals"; never hard-coded in templates, because every department that
runs this code has its own phone, address and notices. The department and organisation
names stay on the home page (they head every page already). The seed loader fills the
fields with values plainly marked "[Placeholder: …]", for the department to replace.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import Orderable

#: Default brand colour: white text on it has a contrast ratio of 7.5:1.
DEFAULT_BRAND_COLOUR = "#0b5d7a"
#: WCAG 2.2 AA, normal text (1.4.3): the header's white text on the brand colour.
MIN_CONTRAST_WITH_WHITE = 4.5

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_PLACEHOLDER = re.compile(r"^\s*\[placeholder", re.IGNORECASE)


def relative_luminance(colour: str) -> float:
    """WCAG's relative luminance of a ``#rrggbb`` colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(colour: str) -> float:
    """WCAG contrast ratio of white text on ``colour`` (1 to 21)."""
    return 1.05 / (relative_luminance(colour) + 0.05)


def validate_brand_colour(value: str) -> None:
    """A ``#rrggbb`` colour on which the header's white text stays readable (WCAG AA)."""
    if not _HEX_COLOUR.match(value or ""):
        raise ValidationError(_("Give the colour as # and six hexadecimal digits, e.g. #0b5d7a."))
    ratio = contrast_with_white(value)
    if ratio < MIN_CONTRAST_WITH_WHITE:
        raise ValidationError(
            _(
                "White text on %(colour)s has a contrast of %(ratio).1f:1; readers need at "
                "least %(minimum).1f:1. Choose a darker colour."
            ),
            params={"colour": value, "ratio": ratio, "minimum": MIN_CONTRAST_WITH_WHITE},
        )


def darker(colour: str, factor: float = 0.75) -> str:
    """The colour for hover and focus: the same hue, darker (so contrast only rises)."""
    channels = [round(int(colour[i : i + 2], 16) * factor) for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def is_placeholder(value: str) -> bool:
    """True for a seed value the department has not replaced yet."""
    return bool(_PLACEHOLDER.match(value or ""))


@register_setting(icon="site")
class ReaderTrustSettings(ClusterableModel, BaseSiteSetting):
    """Identity, contact block and footer notices shown on every reader page."""

    logo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("logo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Shown in the header next to the department's name."),
    )
    brand_colour = models.CharField(
        _("brand colour"),
        max_length=7,
        default=DEFAULT_BRAND_COLOUR,
        validators=[validate_brand_colour],
        help_text=_(
            "Header and link colour, as #rrggbb. White text on it must reach a 4.5:1 contrast."
        ),
    )
    phone = models.CharField(
        _("phone"),
        max_length=100,
        blank=True,
        help_text=_("Shown as a link that dials on phones, e.g. +1 408 555 0100."),
    )
    address = models.TextField(_("address"), blank=True)
    hours = models.TextField(_("opening hours"), blank=True)
    appointments = models.TextField(
        _("how to get an appointment"),
        blank=True,
        help_text=_("Who can refer, whether patients can self-refer, what to bring."),
    )
    privacy_label = models.CharField(
        _("privacy notice label"), max_length=255, default=_("Privacy notice")
    )
    privacy_url = models.URLField(_("privacy notice URL"), max_length=1000, blank=True)
    accessibility_label = models.CharField(
        _("accessibility statement label"), max_length=255, default=_("Accessibility")
    )
    accessibility_url = models.URLField(
        _("accessibility statement URL"), max_length=1000, blank=True
    )
    non_discrimination_label = models.CharField(
        _("non-discrimination notice label"), max_length=255, default=_("Non-discrimination notice")
    )
    non_discrimination_url = models.URLField(
        _("non-discrimination notice URL"), max_length=1000, blank=True
    )
    language_assistance = models.TextField(
        _("language assistance"),
        blank=True,
        help_text=_(
            "The line hospitals publish offering free interpreters, e.g. "
            "“Language assistance services are available free of charge. Call …”."
        ),
    )

    panels = [
        MultiFieldPanel([FieldPanel("logo"), FieldPanel("brand_colour")], heading=_("Identity")),
        InlinePanel("navigation", label=_("Section"), heading=_("Main navigation")),
        MultiFieldPanel(
            [
                FieldPanel("phone"),
                FieldPanel("address"),
                FieldPanel("hours"),
                FieldPanel("appointments"),
            ],
            heading=_("Contact block"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("privacy_label"),
                FieldPanel("privacy_url"),
                FieldPanel("accessibility_label"),
                FieldPanel("accessibility_url"),
                FieldPanel("non_discrimination_label"),
                FieldPanel("non_discrimination_url"),
                FieldPanel("language_assistance"),
            ],
            heading=_("Footer notices"),
        ),
    ]

    class Meta:
        verbose_name = _("reader trust signals")

    @property
    def phone_href(self) -> str:
        """``tel:`` and the digits (a leading + kept), or "" when there is no number yet."""
        if is_placeholder(self.phone):
            return ""
        digits = re.sub(r"[^\d+]", "", self.phone)
        digits = digits[:1] + digits[1:].replace("+", "")
        return f"tel:{digits}" if sum(c.isdigit() for c in digits) >= 3 else ""

    @property
    def custom_colour(self) -> bool:
        """True when the department chose its own colour (the stylesheet has the default)."""
        return (self.brand_colour or DEFAULT_BRAND_COLOUR).lower() != DEFAULT_BRAND_COLOUR

    @property
    def brand_colour_dark(self) -> str:
        return darker(self.brand_colour or DEFAULT_BRAND_COLOUR)

    @property
    def footer_links(self) -> list[dict[str, str]]:
        """The three notices in order; ``url`` is "" while the department has none."""
        return [
            {"label": self.privacy_label, "url": self.privacy_url},
            {"label": self.accessibility_label, "url": self.accessibility_url},
            {"label": self.non_discrimination_label, "url": self.non_discrimination_url},
        ]


class NavigationItem(Orderable):
    """One entry of the main navigation: a section's short name and where it starts.

    Page titles make poor menu entries ("Back Pain Program: Before You Start"); the menu
    names the section. A link to a page readers may not see is left out (``cms.visibility``).
    """

    setting = ParentalKey(ReaderTrustSettings, on_delete=models.CASCADE, related_name="navigation")
    label = models.CharField(_("section name"), max_length=60)
    page = models.ForeignKey(
        "wagtailcore.Page", verbose_name=_("page"), on_delete=models.CASCADE, related_name="+"
    )

    panels = [FieldPanel("label"), PageChooserPanel("page")]
