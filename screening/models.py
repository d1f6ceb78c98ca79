"""The back-pain program screener, the program page it leads to, and the anonymous counts."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, PageChooserPanel, Panel
from wagtail.api import APIField
from wagtail.blocks import StreamBlockValidationError
from wagtail.models import Page
from wagtail.search import index

from cms import visibility
from cms.blocks import ArticleStreamBlock
from cms.models import HealthReviewMixin, SitePageMixin
from cms.rich_text import RichTextField, StreamField
from cms.serializers import PublicPageLinkField

from .blocks import (
    CARE_TEAM,
    DOCTOR,
    EMERGENCY,
    NONE,
    URGENCY_CHOICES,
    CombinationRuleBlock,
    RedFlagItemBlock,
    normalise_item_text,
)
from .rules import CombinationRule, ScreenerRules

logger = logging.getLogger(__name__)

OUTCOME_FEATURES = ["bold", "italic", "link", "ul"]

# Defaults an editor starts from. The doctor and disclaimer wording is the seed page's, word
# for word; the other two follow the clinical guidance the department gave (issue 6).
DEFAULT_DOCTOR_MESSAGE = (
    "<p>We understand that you are experiencing one or more of the health issues that might "
    "be impacting your back pain.</p><p>We recommend that you discuss these health issues with "
    "your doctor before proceeding with this program.</p><p>Once you are cleared by your doctor "
    "to do this program, we hope it helps you find relief from your back pain.</p>"
)
# The outcomes' first words say what to do. Emergency: NHS "Cauda equina syndrome" and NICE
# NG234 both say get emergency care now, so the action comes first and there is no way on to
# the program (``next_page``); the template also puts a tel: link above everything else.
# The care team's number is a department setting we do not have yet: "your care team", never
# an invented number.
DEFAULT_CARE_TEAM_MESSAGE = (
    "<p><b>Contact your care team today, the same day.</b> Do not wait for your next "
    "appointment, and do not start this program until they have spoken with you.</p>"
    "<p>If you cannot reach them today, or you feel worse, go to the nearest emergency "
    "department or call 911.</p>"
)
DEFAULT_EMERGENCY_MESSAGE = (
    '<p><b><a href="tel:911">Call 911</a> or go to the nearest emergency department now.</b>'
    "</p><p>One or more of the things you selected can be a sign of a medical emergency that "
    "needs treatment straight away. Do not start this program.</p>"
)
DEFAULT_NONE_MESSAGE = (
    "<p>Thank you. You did not select any of the health issues we asked about, so you can "
    "go on to the program.</p><p>If any of these symptoms start, or your pain changes or gets "
    "worse, stop the program and come back to this screener or call your care team. If you "
    "have trouble controlling your bladder or bowels, call 911 or go to the nearest emergency "
    "department.</p>"
)
#: The defaults before issue 14, so the seed loader can recognise messages nobody edited.
PREVIOUS_DEFAULT_MESSAGES = {
    "care_team_message": (
        "<p>One or more of the things you selected needs attention from your care team "
        "<b>today</b>.</p><p>Please contact your care team today, before you start this "
        "program. If you cannot reach them and you feel unwell, go to the emergency room.</p>"
    ),
    "emergency_message": (
        "<p><b>One or more of the things you selected can be a sign of a medical emergency."
        "</b></p><p><b>Call 911 or go to the nearest emergency room now.</b> Do not start "
        "this program.</p>"
    ),
    "none_message": (
        "<p>Thank you. You did not select any of the health issues we asked about, so you can "
        "go on to the program.</p>"
    ),
}
DEFAULT_DISCLAIMER = (
    "<p>This screener does not diagnose any condition and is not for emergencies. If you "
    "think you are having a medical emergency, call 911.</p>"
)


class ProgramPage(SitePageMixin, HealthReviewMixin, Page):
    """The program a cleared reader goes on to (the back-pain program)."""

    intro = RichTextField(_("introduction"), blank=True)
    body = StreamField(ArticleStreamBlock(), blank=True, verbose_name=_("body"))

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("body"),
        *HealthReviewMixin.review_panels,
    ]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]
    api_fields = [APIField("intro"), APIField("body"), *HealthReviewMixin.review_api_fields]

    class Meta:
        verbose_name = _("program page")


class RuleErrors(StreamBlockValidationError):
    """Errors shown on each faulty rule in the admin, and as one readable sentence elsewhere."""

    def __init__(self, block_errors: dict[int, ValidationError]) -> None:
        super().__init__(block_errors=block_errors)
        self.message = " ".join(
            _("Combination rule %(number)d: %(problem)s")
            % {"number": position + 1, "problem": " ".join(error.messages)}
            for position, error in sorted(block_errors.items())
        )


class ClinicalSafetyPanel(Panel):
    """Read-only: the sign-off warning and the guidance each urgency cites, above the items."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "screening/admin_clinical_safety_panel.html"

        def get_context_data(self, parent_context: dict | None = None) -> dict:
            context = super().get_context_data(parent_context)
            page = self.instance
            context["needs_signoff"] = page.needs_clinical_signoff()
            context["sources"] = page.clinical_sources()
            context["note"] = page.clinical_safety_note
            return context


class ScreenerPage(SitePageMixin, HealthReviewMixin, Page):
    """A red-flag screener. Answers are evaluated and forgotten; nothing here stores them."""

    # Its form carries a per-reader CSRF token: never a shared cached answer.
    public_response_cache = False

    question = models.CharField(
        _("question"),
        max_length=500,
        default="Are you having back pain with any of the following?",
    )
    items = StreamField([("item", RedFlagItemBlock())], verbose_name=_("red-flag items"), min_num=1)
    rules = StreamField(
        [("rule", CombinationRuleBlock())],
        verbose_name=_("combination rules"),
        blank=True,
        help_text=_(
            "Items that together need more urgent care than each alone. The reader gets the "
            "most urgent of their items' urgencies and of every rule whose items they all "
            "selected."
        ),
    )
    doctor_message = RichTextField(
        _("outcome: talk to your doctor first"),
        features=OUTCOME_FEATURES,
        default=DEFAULT_DOCTOR_MESSAGE,
    )
    care_team_message = RichTextField(
        _("outcome: contact your care team today"),
        blank=True,
        features=OUTCOME_FEATURES,
        default=DEFAULT_CARE_TEAM_MESSAGE,
        help_text=_("Required when any item is set to this urgency."),
    )
    emergency_message = RichTextField(
        _("outcome: emergency"),
        blank=True,
        features=OUTCOME_FEATURES,
        default=DEFAULT_EMERGENCY_MESSAGE,
        help_text=_(
            "Required when any item is set to this urgency. Readers with this outcome are "
            "not offered the program."
        ),
    )
    none_message = RichTextField(
        _("outcome: none of these"),
        blank=True,
        features=OUTCOME_FEATURES,
        default=DEFAULT_NONE_MESSAGE,
        help_text=_("Shown with a link on to the program page."),
    )
    disclaimer = RichTextField(
        _("disclaimer"),
        blank=True,
        features=["bold", "italic", "link"],
        default=DEFAULT_DISCLAIMER,
        help_text=_("Shown on the screener and on every outcome."),
    )
    program_page = models.ForeignKey(
        ProgramPage,
        verbose_name=_("program page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    clinical_signoff_at = models.DateTimeField(
        _("clinically signed off at"),
        null=True,
        blank=True,
        help_text=_(
            "Empty until a named clinician has checked the items, urgencies, rules and "
            "outcomes against the cited guidance. The seeded screener is not signed off."
        ),
    )
    clinical_signoff_by = models.CharField(
        _("clinically signed off by"),
        max_length=200,
        blank=True,
        help_text=_("The clinician's name and role."),
    )
    clinical_safety_note = models.TextField(
        _("clinical safety note"),
        blank=True,
        help_text=_("Set by the seed loader when it could not apply the safer urgencies."),
    )

    content_panels = Page.content_panels + [
        ClinicalSafetyPanel(heading=_("Clinical safety")),
        FieldPanel("question"),
        FieldPanel("items"),
        FieldPanel("rules"),
        MultiFieldPanel(
            [
                FieldPanel("doctor_message"),
                FieldPanel("care_team_message"),
                FieldPanel("emergency_message"),
                FieldPanel("none_message"),
            ],
            heading=_("Outcomes"),
        ),
        FieldPanel("disclaimer"),
        PageChooserPanel("program_page"),
        MultiFieldPanel(
            [
                FieldPanel("clinical_signoff_at"),
                FieldPanel("clinical_signoff_by"),
                FieldPanel("clinical_safety_note"),
            ],
            heading=_("Clinical sign-off"),
        ),
        *HealthReviewMixin.review_panels,
    ]
    search_fields = Page.search_fields + [index.SearchField("question")]
    api_fields = [
        APIField("question"),
        APIField("items"),
        APIField("rules"),
        APIField("doctor_message"),
        APIField("care_team_message"),
        APIField("emergency_message"),
        APIField("none_message"),
        APIField("disclaimer"),
        APIField("program_page", serializer=PublicPageLinkField()),
        *HealthReviewMixin.review_api_fields,
    ]

    class Meta:
        verbose_name = _("screener page")

    def clean(self) -> None:
        """An item's urgency is only useful if its outcome has words, and "none" needs a program."""
        super().clean()
        errors: dict[str, ValidationError] = {}
        used = {item.value["urgency"] for item in self.items}
        used |= {rule.value["urgency"] for rule in self.rules}
        for urgency in (CARE_TEAM, EMERGENCY):
            field = f"{urgency}_message"
            if urgency in used and not strip_tags(getattr(self, field) or "").strip():
                errors[field] = ValidationError(
                    _("An item uses this urgency, so its outcome message cannot be empty.")
                )
        rule_errors = self.rule_errors()
        if rule_errors:
            errors["rules"] = RuleErrors(rule_errors)
        if self.program_page_id is None:
            errors["program_page"] = ValidationError(
                _("Choose the program page that readers with no red flags go on to.")
            )
        if errors:
            raise ValidationError(errors)

    def rule_errors(self) -> dict[int, ValidationError]:
        """Per rule, what is wrong with it, in words an editor can act on."""
        texts = {normalise_item_text(item.value["text"]) for item in self.items}
        known = {value for value, _label in URGENCY_CHOICES}
        errors: dict[int, ValidationError] = {}
        for position, rule in enumerate(self.rules):
            messages = []
            references = [str(text) for text in rule.value["items"]]
            missing = [text for text in references if normalise_item_text(text) not in texts]
            for text in missing:
                messages.append(
                    _("“%(text)s” is not an item of this screener. Copy the item's text exactly.")
                    % {"text": text}
                )
            if len({normalise_item_text(text) for text in references}) < 2:
                messages.append(_("A combination rule needs at least two different items."))
            if rule.value["urgency"] not in known:
                messages.append(_("Choose one of the listed urgencies."))
            if messages:
                errors[position] = ValidationError(" ".join(str(m) for m in messages))
        duplicates = len(texts) < len(self.items)
        if duplicates and self.rules:
            errors.setdefault(
                0,
                ValidationError(
                    _("Two items have the same text, so a rule cannot tell them apart.")
                ),
            )
        return errors

    # --- evaluation ----------------------------------------------------------------
    def item_urgencies(self) -> dict[str, str]:
        """Each item's id (the stable answer id) and its urgency, in page order."""
        return {item.id: item.value["urgency"] for item in self.items}

    def screening_rules(self) -> ScreenerRules:
        """This screener's items and combinations, for :func:`screening.rules.evaluate`.

        A rule naming an item that no longer exists cannot be checked (validation stops such
        a revision being saved; this guards data that bypassed it): it is left out and logged
        with the page id only, never anything a reader picked.
        """
        ids = {normalise_item_text(item.value["text"]): item.id for item in self.items}
        combinations = []
        for rule in self.rules:
            refs = {normalise_item_text(text) for text in rule.value["items"]}
            if len(refs) < 2 or not refs <= ids.keys():
                logger.warning("screener %s: a combination rule names unknown items", self.pk)
                continue
            combinations.append(
                CombinationRule(frozenset(ids[ref] for ref in refs), rule.value["urgency"])
            )
        return ScreenerRules(self.item_urgencies(), tuple(combinations))

    def needs_clinical_signoff(self) -> bool:
        """Not yet signed off by a named clinician (the admin warns; the dashboard lists it)."""
        return self.clinical_signoff_at is None or not self.clinical_signoff_by.strip()

    def clinical_sources(self) -> list[dict]:
        """What each urgency rests on, for the admin's read-only "Clinical safety" panel."""
        labels = dict(URGENCY_CHOICES)
        rows = [
            {
                "what": item.value["text"],
                "urgency": labels.get(item.value["urgency"], item.value["urgency"]),
                "source": item.value.get("source") or "",
                "rationale": "",
            }
            for item in self.items
        ]
        rows += [
            {
                "what": " + ".join(str(text) for text in rule.value["items"]),
                "urgency": labels.get(rule.value["urgency"], rule.value["urgency"]),
                "source": rule.value.get("source") or "",
                "rationale": rule.value.get("rationale") or "",
            }
            for rule in self.rules
        ]
        return rows

    def outcome_message(self, outcome: str) -> str:
        """The editor's rich text (database format) for ``outcome``; the default if left empty."""
        field, default = {
            NONE: ("none_message", DEFAULT_NONE_MESSAGE),
            DOCTOR: ("doctor_message", DEFAULT_DOCTOR_MESSAGE),
            CARE_TEAM: ("care_team_message", DEFAULT_CARE_TEAM_MESSAGE),
            EMERGENCY: ("emergency_message", DEFAULT_EMERGENCY_MESSAGE),
        }[outcome]
        value = getattr(self, field) or ""
        return value if strip_tags(value).strip() else default

    def next_page(self, outcome: str) -> ProgramPage | None:
        """Where the reader may go on to: the program, unless it is an emergency or not public."""
        if outcome == EMERGENCY or self.program_page_id is None:
            return None
        return visibility.public_pages(ProgramPage.objects.filter(pk=self.program_page_id)).first()

    # --- reader flow ---------------------------------------------------------------
    def serve(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """GET shows the form; POST evaluates and renders the outcome in the same response.

        Never a redirect: the answers would have to travel in a URL, a session or a cookie.
        Nothing about the answers is kept except one anonymous count per outcome per day.
        """
        from .forms import ScreenerForm

        if self.is_expired_now():
            raise Http404
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        template = self.get_template(request, *args, **kwargs)
        context = self.get_context(request, *args, **kwargs)
        if request.method == "POST":
            form = ScreenerForm(request.POST, page=self)
            if form.is_valid():
                outcome = form.cleaned_data["outcome"]
                if not getattr(request, "is_preview", False):
                    ScreeningOutcomeCount.record(self.pk, outcome)
                template = "screening/screener_outcome.html"
                context.update(self.outcome_context(request, outcome))
        else:
            form = ScreenerForm(page=self)
        context["form"] = form
        context["selected"] = form.selected()
        response = TemplateResponse(request, template, context)
        add_never_cache_headers(response)
        return response

    def outcome_context(self, request: HttpRequest, outcome: str) -> dict:
        return {
            "outcome": outcome,
            "outcome_heading": OUTCOME_HEADINGS[outcome],
            "outcome_message": self.outcome_message(outcome),
            "next_page": self.next_page(outcome),
        }


OUTCOME_CHOICES = [(NONE, _("None of these")), *URGENCY_CHOICES]
OUTCOME_HEADINGS = {
    NONE: _("You can go on to the program"),
    DOCTOR: _("Talk to your doctor first"),
    CARE_TEAM: _("Contact your care team today"),
    EMERGENCY: _("Emergency: call 911 or go to the emergency room now"),
}


#: Counts below this are shown as "<5" in the admin and its exports.
SMALL_COUNT = 5


class ScreeningOutcomeCount(models.Model):
    """How many readers reached each outcome of a screener on a day: the only thing kept.

    Deliberately nothing else: no answers, no IP address, no user agent, no time finer
    than the day, so a row can never be traced back to a reader or to what they picked.
    """

    screener = models.ForeignKey(
        ScreenerPage,
        verbose_name=_("screener"),
        on_delete=models.CASCADE,
        related_name="outcome_counts",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=OUTCOME_CHOICES)
    date = models.DateField(_("date"))
    count = models.PositiveIntegerField(_("count"), default=0)

    # A count is not content: no "usage" entry for the screener, no write per submission.
    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("screener outcome count")
        verbose_name_plural = _("screener outcome counts")
        ordering = ["-date", "screener", "outcome"]
        constraints = [
            models.UniqueConstraint(
                fields=["screener", "outcome", "date"], name="screening_one_count_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_outcome_display()}: {self.count_display()}"

    def count_display(self) -> str:
        """The count for people to read: under 5 becomes "<5", so a row cannot single anyone out."""
        return f"<{SMALL_COUNT}" if self.count < SMALL_COUNT else str(self.count)

    count_display.short_description = _("count")

    @classmethod
    def record(cls, screener_id: int, outcome: str, day: dt.date | None = None) -> None:
        """Add one to today's count, atomically, even with concurrent readers in other processes."""
        day = day or timezone.localdate()
        key = {"screener_id": screener_id, "outcome": outcome, "date": day}
        with transaction.atomic():
            if cls.objects.filter(**key).update(count=F("count") + 1):
                return
            try:
                with transaction.atomic():
                    cls.objects.create(**key, count=1)
            except IntegrityError:
                # Another process created today's row between our update and insert.
                cls.objects.filter(**key).update(count=F("count") + 1)
