"""The department's home page and the News & Events section."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.api import APIField
from wagtail.models import Orderable, Page
from wagtail.search import index

from cms import visibility
from cms.rich_text import RichTextField

from .base import SitePageMixin, shown


class HomePage(SitePageMixin, Page):
    """The site root: names the department and organisation shown in every page header."""

    department_name = models.CharField(_("department"), max_length=255, default="Cancer Care")
    organisation_name = models.CharField(
        _("organisation"), max_length=255, default="Santa Clara Medical Center"
    )
    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("department_name"),
        FieldPanel("organisation_name"),
        FieldPanel("intro"),
        InlinePanel("promos", label=_("Promotions"), heading=_("Promotions")),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("department_name"),
    ]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1
    api_fields = [
        APIField("department_name"),
        APIField("organisation_name"),
        APIField("intro"),
        APIField("live_promos"),
    ]

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        from .blog import BlogIndexPage
        from .events import EventIndexPage

        context = super().get_context(request, *args, **kwargs)
        sections = []
        for index_model, per_section in ((BlogIndexPage, 3), (EventIndexPage, 2)):
            for section in shown(index_model.objects.descendant_of(self)):
                children = (
                    section.get_posts() if index_model is BlogIndexPage else section.get_events()
                )
                section.latest = list(children[:per_section])
                sections.append(section)
        context["sections"] = sections
        context["quick_links"] = shown(self.get_children()).not_type(NewsEventsPage).specific()
        return context

    @property
    def live_promos(self) -> list[dict]:
        """Promotions in editor order, public ones only: a draft or expired promo never
        leaves the system, even before the scheduler takes it down."""
        return [
            item.promo.as_api_dict()
            for item in self.promos.select_related("promo__link_page")
            if visibility.is_public_snippet(item.promo)
        ]


class HomePagePromo(Orderable):
    """Places a promotion on the home page, in the order editors drag it to."""

    page = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="promos")
    promo = models.ForeignKey(
        "cms.Promo", verbose_name=_("promotion"), on_delete=models.CASCADE, related_name="+"
    )

    panels = [FieldPanel("promo")]


class NewsEventsPage(SitePageMixin, Page):
    """The "News & Events" section: the blog and Seeds of Hope hang under it."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.BlogIndexPage", "cms.EventIndexPage"]
    api_fields = [APIField("intro")]

    class Meta:
        verbose_name = _("news and events section")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["sections"] = shown(self.get_children()).specific()
        return context
