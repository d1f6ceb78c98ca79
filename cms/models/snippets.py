"""Snippets: authors credited on posts, and the promotions shown on the home page."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, PageChooserPanel
from wagtail.models import DraftStateMixin, PreviewableMixin, RevisionMixin
from wagtail.search import index

from cms import visibility
from cms.panels import ZonedPublishingPanel
from cms.rich_text import RichTextField


class Author(index.Indexed, models.Model):
    """A physician or writer credited on posts; credentials back "reviewed by" lines."""

    name = models.CharField(_("name"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=255, unique=True)
    credentials = models.CharField(
        _("credentials"), max_length=255, blank=True, help_text=_("For example: MD, FACP")
    )
    photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("photo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    bio = RichTextField(_("bio"), blank=True, features=["bold", "italic", "link"])
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("admin account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="author_profile",
        help_text=_("A clinician's clinical reviews approved in the admin credit this author."),
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("credentials"),
        FieldPanel("photo"),
        FieldPanel("bio"),
        FieldPanel("user"),
    ]
    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("bio"),
    ]

    class Meta:
        ordering = ["name"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")

    def __str__(self) -> str:
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


class Promo(DraftStateMixin, RevisionMixin, PreviewableMixin, models.Model):
    """A sidebar promotion. Draft state lets editors schedule a campaign to start and end."""

    title = models.CharField(_("title"), max_length=255)
    text = models.CharField(_("text"), max_length=500, blank=True)
    link_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("link to a page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    link_url = models.URLField(_("or link to a URL"), blank=True)

    panels = [
        FieldPanel("title"),
        FieldPanel("text"),
        PageChooserPanel("link_page"),
        FieldPanel("link_url"),
        # Go-live and expiry times: a campaign starts and ends on its own.
        ZonedPublishingPanel(),
    ]

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.link_page_id and self.link_url:
            raise ValidationError({"link_url": _("Choose a page or enter a URL, not both.")})

    @property
    def link(self) -> str:
        if self.link_page_id:
            page = self.link_page
            return page.full_url if visibility.is_public(page) else ""
        return self.link_url

    def get_preview_template(self, request, mode_name):
        return "includes/promo_preview.html"

    def as_api_dict(self) -> dict:
        return {"id": self.pk, "title": self.title, "text": self.text, "url": self.link}
