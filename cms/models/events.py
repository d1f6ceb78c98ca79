"""Seeds of Hope: the yearly community-education event and its resources."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.models import Orderable, Page
from wagtail.search import index

from cms import visibility
from cms.rich_text import RichTextField
from cms.serializers import DocumentLinkSerializer, SafeURLField
from cms.syndication import Role, Syndication

from .base import HealthReviewMixin, SitePageMixin, shown


class EventIndexPage(SitePageMixin, Page):
    """ "View All": every Seeds of Hope year, newest first."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    parent_page_types = ["cms.NewsEventsPage", "cms.HomePage"]
    subpage_types = ["cms.EventResourcesPage"]
    syndication = Syndication(
        "events",
        Role.LISTING,
        "events",
        _("Seeds of Hope events"),
        description=_("Seeds of Hope community-education events, newest first."),
    )
    api_fields = [APIField("intro")]

    class Meta:
        verbose_name = _("Seeds of Hope index")

    def get_events(self):
        return shown(EventResourcesPage.objects.child_of(self)).order_by("-year", "-pk")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["events"] = self.get_events()
        return context


class EventResourcesPage(SitePageMixin, HealthReviewMixin, Page):
    """One year's event: its theme, and the session and resource links readers come for."""

    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(1990), MaxValueValidator(2200)]
    )
    theme = models.CharField(_("theme"), max_length=255, blank=True)
    teaser = models.CharField(_("teaser"), max_length=500, blank=True)
    event_date = models.DateField(_("event date"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=255, blank=True)
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("year"), FieldPanel("event_date")]),
                FieldPanel("theme"),
                FieldPanel("place"),
            ],
            heading=_("Event"),
        ),
        FieldPanel("teaser"),
        FieldPanel("intro"),
        InlinePanel("sessions", label=_("Educational session"), heading=_("Sessions")),
        InlinePanel("resources", label=_("Resource"), heading=_("Resources")),
        *HealthReviewMixin.review_panels,
    ]
    search_fields = Page.search_fields + [
        index.SearchField("theme"),
        index.SearchField("teaser"),
        index.SearchField("intro"),
        index.FilterField("year"),
        index.RelatedFields("sessions", [index.SearchField("title"), index.SearchField("speaker")]),
        index.RelatedFields("resources", [index.SearchField("title"), index.SearchField("note")]),
    ]
    parent_page_types = ["cms.EventIndexPage"]
    subpage_types: list[str] = []
    syndication = Syndication(
        "events",
        Role.ITEM,
        "events",
        _("Seeds of Hope events"),
        prefetch=("sessions__document", "resources__document"),
    )
    api_fields = [
        APIField("year"),
        APIField("theme"),
        APIField("teaser"),
        APIField("event_date"),
        APIField("place"),
        APIField("intro"),
        APIField("sessions"),
        APIField("resources"),
        *HealthReviewMixin.review_api_fields,
    ]

    api_prefetch_related = ("sessions__document", "resources__document")

    class Meta:
        verbose_name = _("Seeds of Hope year")


class EventSession(Orderable):
    """An educational session of the event, with its recording and slides."""

    page = ParentalKey(EventResourcesPage, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(_("title"), max_length=500)
    speaker = models.CharField(_("speaker"), max_length=255, blank=True)
    slides_url = models.URLField(_("slides URL"), max_length=1000, blank=True)
    video_url = models.URLField(_("video URL"), max_length=1000, blank=True)
    document = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    panels = [
        FieldPanel("title"),
        FieldPanel("speaker"),
        FieldPanel("slides_url"),
        FieldPanel("video_url"),
        FieldPanel("document"),
    ]
    api_fields = [
        APIField("title"),
        APIField("speaker"),
        APIField("slides_url", serializer=SafeURLField()),
        APIField("video_url", serializer=SafeURLField()),
        APIField("document", serializer=DocumentLinkSerializer(allow_null=True)),
    ]

    @property
    def public_document(self):
        """The session's document, or ``None`` when readers may not see it."""
        return self.document if visibility.is_public_media(self.document) else None


class EventResource(Orderable):
    """A resource handed to attendees: a web link or an uploaded document."""

    page = ParentalKey(EventResourcesPage, on_delete=models.CASCADE, related_name="resources")
    title = models.CharField(_("title"), max_length=500)
    url = models.URLField(_("URL"), max_length=1000, blank=True)
    document = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    panels = [FieldPanel("title"), FieldPanel("url"), FieldPanel("document"), FieldPanel("note")]
    api_fields = [
        APIField("title"),
        APIField("url", serializer=SafeURLField()),
        APIField("document", serializer=DocumentLinkSerializer(allow_null=True)),
        APIField("note"),
    ]

    def clean(self) -> None:
        super().clean()
        if not self.url and not self.document_id:
            raise ValidationError(_("Give the resource a URL or choose a document."))

    @property
    def href(self) -> str:
        """Where the resource links: its document if readers may see it, else its URL
        (empty when neither is public: the resource is then not listed)."""
        if self.document_id and visibility.is_public_media(self.document):
            return self.document.url
        return self.url
