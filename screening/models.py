"""The back-pain program screener and the program page it leads to."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, PageChooserPanel
from wagtail.api import APIField
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import ArticleStreamBlock
from cms.models import ExpiryAwareMixin

from .blocks import RedFlagItemBlock


class ProgramPage(ExpiryAwareMixin, Page):
    """The program a cleared reader goes on to (the back-pain program)."""

    intro = RichTextField(_("introduction"), blank=True)
    body = StreamField(ArticleStreamBlock(), blank=True, verbose_name=_("body"))

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]
    api_fields = [APIField("intro"), APIField("body")]

    class Meta:
        verbose_name = _("program page")


class ScreenerPage(ExpiryAwareMixin, Page):
    """A red-flag screener. Answers are evaluated and forgotten; nothing here stores them."""

    question = models.CharField(
        _("question"),
        max_length=500,
        default="Are you having back pain with any of the following?",
    )
    items = StreamField([("item", RedFlagItemBlock())], verbose_name=_("red-flag items"), min_num=1)
    doctor_message = RichTextField(
        _("outcome: talk to your doctor first"), features=["bold", "italic", "link", "ul"]
    )
    care_team_message = RichTextField(
        _("outcome: contact your care team today"),
        blank=True,
        features=["bold", "italic", "link", "ul"],
    )
    emergency_message = RichTextField(
        _("outcome: emergency"), blank=True, features=["bold", "italic", "link", "ul"]
    )
    none_message = RichTextField(
        _("outcome: none of these"), blank=True, features=["bold", "italic", "link", "ul"]
    )
    disclaimer = RichTextField(_("disclaimer"), blank=True, features=["bold", "italic", "link"])
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
        APIField("program_page"),
    ]

    class Meta:
        verbose_name = _("screener page")
