"""The back-pain program screener, the program page it leads to, and the anonymous counts."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, PageChooserPanel
from wagtail.api import APIField
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from cms import visibility
from cms.blocks import ArticleStreamBlock
from cms.models import SitePageMixin
from cms.serializers import PublicPageLinkField

from .blocks import CARE_TEAM, DOCTOR, EMERGENCY, NONE, URGENCY_CHOICES, RedFlagItemBlock

OUTCOME_FEATURES = ["bold", "italic", "link", "ul"]

# Defaults an editor starts from. The doctor and disclaimer wording is the seed page's, word
# for word; the other two follow the clinical guidance the department gave (issue 6).
DEFAULT_DOCTOR_MESSAGE = (
    "<p>We understand that you are experiencing one or more of the health issues that might "
    "be impacting your back pain.</p><p>We recommend that you discuss these health issues with "
    "your doctor before proceeding with this program.</p><p>Once you are cleared by your doctor "
    "to do this program, we hope it helps you find relief from your back pain.</p>"
)
DEFAULT_CARE_TEAM_MESSAGE = (
    "<p>One or more of the things you selected needs attention from your care team "
    "<b>today</b>.</p><p>Please contact your care team today, before you start this program. "
    "If you cannot reach them and you feel unwell, go to the emergency room.</p>"
)
DEFAULT_EMERGENCY_MESSAGE = (
    "<p><b>One or more of the things you selected can be a sign of a medical emergency.</b></p>"
    "<p><b>Call 911 or go to the nearest emergency room now.</b> Do not start this program.</p>"
)
DEFAULT_NONE_MESSAGE = (
    "<p>Thank you. You did not select any of the health issues we asked about, so you can "
    "go on to the program.</p>"
)
DEFAULT_DISCLAIMER = (
    "<p>This screener does not diagnose any condition and is not for emergencies. If you "
    "think you are having a medical emergency, call 911.</p>"
)


class ProgramPage(SitePageMixin, Page):
    """The program a cleared reader goes on to (the back-pain program)."""

    intro = RichTextField(_("introduction"), blank=True)
    body = StreamField(ArticleStreamBlock(), blank=True, verbose_name=_("body"))

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]
    api_fields = [APIField("intro"), APIField("body")]

    class Meta:
        verbose_name = _("program page")


class ScreenerPage(SitePageMixin, Page):
    """A red-flag screener. Answers are evaluated and forgotten; nothing here stores them."""

    # Its form carries a per-reader CSRF token: never a shared cached answer.
    public_response_cache = False

    question = models.CharField(
        _("question"),
        max_length=500,
        default="Are you having back pain with any of the following?",
    )
    items = StreamField([("item", RedFlagItemBlock())], verbose_name=_("red-flag items"), min_num=1)
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

    content_panels = Page.content_panels + [
        FieldPanel("question"),
        FieldPanel("items"),
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
    ]
    search_fields = Page.search_fields + [index.SearchField("question")]
    api_fields = [
        APIField("question"),
        APIField("items"),
        APIField("doctor_message"),
        APIField("care_team_message"),
        APIField("emergency_message"),
        APIField("none_message"),
        APIField("disclaimer"),
        APIField("program_page", serializer=PublicPageLinkField()),
    ]

    class Meta:
        verbose_name = _("screener page")

    def clean(self) -> None:
        """An item's urgency is only useful if its outcome has words, and "none" needs a program."""
        super().clean()
        errors: dict[str, ValidationError] = {}
        used = {item.value["urgency"] for item in self.items}
        for urgency in (CARE_TEAM, EMERGENCY):
            field = f"{urgency}_message"
            if urgency in used and not strip_tags(getattr(self, field) or "").strip():
                errors[field] = ValidationError(
                    _("An item uses this urgency, so its outcome message cannot be empty.")
                )
        if self.program_page_id is None:
            errors["program_page"] = ValidationError(
                _("Choose the program page that readers with no red flags go on to.")
            )
        if errors:
            raise ValidationError(errors)

    # --- evaluation ----------------------------------------------------------------
    def item_urgencies(self) -> dict[str, str]:
        """Each item's id (the stable answer id) and its urgency, in page order."""
        return {item.id: item.value["urgency"] for item in self.items}

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
        return f"{self.date} {self.get_outcome_display()}: {self.count}"

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
