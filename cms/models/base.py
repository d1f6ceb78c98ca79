"""Behaviour shared by every public page type."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.models import Page
from wagtail_headless_preview.models import HeadlessPreviewMixin

from cms import publish_gate, visibility
from cms.panels import ZonedPublishingPanel
from cms.response_cache import mark_public
from cms.serializers import AuthorSerializer

HEADLESS_PREVIEW_MODE = "headless"
#: What Wagtail's audit log says when a revision goes live: an editor's or a release's
#: publish, the scheduler's go-live, and a publish of an older revision (a revert).
PUBLISH_LOG_ACTIONS = ("wagtail.publish", "wagtail.publish.scheduled", "wagtail.revert")


def shown(queryset):
    """What a reader listing may show: the one visibility rule (``cms.visibility``)."""
    return visibility.public_pages(queryset)


class ExpiryAwareMixin:
    """Refuse to serve a page whose ``expire_at`` has passed.

    The scheduler unpublishes expired pages within a second, but a reader must never
    see an expired page even in that second, or while the workers are down.
    """

    def is_expired_now(self) -> bool:
        return visibility.is_expired(self)

    def serve(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self.is_expired_now():
            raise Http404
        return super().serve(request, *args, **kwargs)


class SitePageMixin(ExpiryAwareMixin, HeadlessPreviewMixin):
    """What every page type of the site shares: expiry enforced when serving, a schedule
    panel that names the time zone of the times entered, and a second preview mode that
    shows a draft as a partner front-end reads it (the API), behind a signed token."""

    settings_panels = [ZonedPublishingPanel(), *Page.settings_panels[1:]]

    @property
    def preview_modes(self) -> list[tuple[str, str]]:
        return [*super().preview_modes, (HEADLESS_PREVIEW_MODE, _("Partner front-end (API)"))]

    #: False for page types whose answer differs per reader (a form with a CSRF token).
    public_response_cache = True

    def serve(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """Let the response cache keep this answer when it is the same for every reader."""
        response = super().serve(request, *args, **kwargs)
        if (
            self.public_response_cache
            and request.method == "GET"
            and not getattr(request, "is_preview", False)
            and visibility.is_public(self)
        ):
            mark_public(response)
        return response

    # --- the publish gate (``cms.publish_gate``; clinical governance registers it) ------
    def publish(self, revision, *args, **kwargs):
        """Every code path (``revision.publish()``, workflows, the scheduler, releases)
        meets the gate here, before Wagtail's action changes anything."""
        publish_gate.check(revision, self)
        return super().publish(revision, *args, **kwargs)

    def save(self, *args, **kwargs):
        """Backstop for paths that run Wagtail's publish action without ``publish()``
        (the admin's edit view, API v3): a new live revision must pass the gate too."""
        update_fields = kwargs.get("update_fields")
        if (
            self.pk
            and self.live
            and self.live_revision_id
            and (update_fields is None or "live_revision" in update_fields)
            and publish_gate.enforced()
        ):
            before = (
                Page.objects.filter(pk=self.pk).values_list("live_revision_id", flat=True).first()
            )
            if before != self.live_revision_id:
                publish_gate.check(self.live_revision, self)
        return super().save(*args, **kwargs)

    def get_workflow(self):
        """The workflow the page type's policy requires (clinical review), else Wagtail's."""
        return publish_gate.required_workflow(self) or super().get_workflow()

    @property
    def has_workflow(self) -> bool:
        return publish_gate.required_workflow(self) is not None or super().has_workflow

    @property
    def public_parent(self) -> Page | None:
        """The parent for breadcrumbs and feed titles: ``None`` when it is not public."""
        return visibility.public_parent(self)

    def serve_preview(self, request: HttpRequest, mode_name: str) -> HttpResponse:
        """A draft for the admin's preview panel: framable by the admin alone, never stored.

        Wagtail renders a preview at the page's own address, so the reader pages' policy
        (``frame-ancestors 'none'``) would apply; a preview answer replaces it with
        ``'self'`` and, in the headless mode, lets its frame load the partner front-end.
        """
        if mode_name == HEADLESS_PREVIEW_MODE:
            response = HeadlessPreviewMixin.serve_preview(self, request, mode_name)
            target = urlsplit(self.get_client_root_url(request))
            frame_src = ["'self'", f"{target.scheme}://{target.netloc}"]
        else:
            # Wagtail's own preview for every other mode (skip the headless mixin's override).
            response = super(HeadlessPreviewMixin, self).serve_preview(request, mode_name)
            frame_src = None
        response["X-Frame-Options"] = "SAMEORIGIN"
        response["Cache-Control"] = "private, no-store"
        replace = {"frame-ancestors": ["'self'"]}
        if frame_src:
            replace["frame-src"] = frame_src
        response._csp_replace = {**(getattr(response, "_csp_replace", None) or {}), **replace}
        return response


class HealthReviewMixin(models.Model):
    """Clinical review record for health content: who checked it, when, and when next.

    Readers see it at the foot of the page; editors get a report of reviews that are due.
    """

    reviewed_by = models.ForeignKey(
        "cms.Author",
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("A clinician with credentials who checked this content."),
    )
    last_reviewed = models.DateField(_("last reviewed"), null=True, blank=True)
    next_review_due = models.DateField(
        _("next review due"),
        null=True,
        blank=True,
        db_index=True,  # the scheduler sweeps it
    )
    # Set by the scheduler when ``next_review_due`` passed (exactly once per due date);
    # cleared by the next approved review. Readers then see "being reviewed".
    review_lapsed_on = models.DateField(
        _("review lapsed on"), null=True, blank=True, editable=False
    )

    review_panels = [
        MultiFieldPanel(
            [FieldPanel("reviewed_by"), FieldPanel("last_reviewed"), FieldPanel("next_review_due")],
            heading=_("Clinical review"),
        )
    ]
    review_api_fields = [
        APIField("reviewed_by", serializer=AuthorSerializer(allow_null=True)),
        APIField("last_reviewed"),
        APIField("next_review_due"),
        APIField("review_lapsed"),
    ]

    class Meta:
        abstract = True

    @property
    def review_lapsed(self) -> bool:
        """True once the scheduler applied the lapse of the current review."""
        return self.review_lapsed_on is not None

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.last_reviewed and not self.reviewed_by_id:
            errors["reviewed_by"] = _("Say who reviewed this content.")
        if self.last_reviewed and self.last_reviewed > timezone.localdate():
            errors["last_reviewed"] = _("The last review cannot be in the future.")
        if (
            self.last_reviewed
            and self.next_review_due
            and self.next_review_due <= self.last_reviewed
        ):
            errors["next_review_due"] = _("The next review must come after the last review.")
        if errors:
            raise ValidationError(errors)
