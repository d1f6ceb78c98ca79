"""Clinical governance: the "Clinical review" workflow task and the per-type policy.

The task is Wagtail's group approval (a named group approves or requests changes, with a
comment), kept as its own model so the gate can ask "did a *clinical* review approve this
exact revision?" without trusting any other approval step. The policy is a site setting
an administrator changes in Settings → Clinical governance.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import AbstractGroupApprovalTask

CLINICAL_REVIEWERS_GROUP = "Clinical reviewers"
CLINICAL_REVIEW_TASK = "Clinical review"
CLINICAL_REVIEW_WORKFLOW = "Clinical review"


class ClinicalReviewTask(AbstractGroupApprovalTask):
    """Approval by a clinical reviewer; its approval of a revision is what the gate reads."""

    class Meta:
        verbose_name = _("Clinical review")
        verbose_name_plural = _("Clinical reviews")

    @classmethod
    def get_description(cls):
        return _(
            "A clinical reviewer approves the exact revision that may go live; an edit "
            "after approval needs a new approval."
        )

    #: ``(task_state, user) -> None``, set at ready() by ``publishing.governance``:
    #: records the review on the approved revision (the model imports no logic module).
    record_approval = None

    def on_action(self, task_state, user, action_name, **kwargs):
        """Record the review on the approved revision before Wagtail publishes it."""
        if action_name == "approve" and ClinicalReviewTask.record_approval is not None:
            ClinicalReviewTask.record_approval(task_state, user)
        return super().on_action(task_state, user, action_name, **kwargs)


class LapseAction(models.TextChoices):
    BANNER = "banner", _("Show “This information is being reviewed”")
    UNPUBLISH = "unpublish", _("Show the banner and unpublish the page")


@dataclass(frozen=True)
class TypePolicy:
    """One page type's rule, as the gate and the scheduler read it."""

    requires_review: bool
    review_months: int
    lapse_action: str


#: Health page types (``app_label.model``) and the prefix of their policy fields.
HEALTH_TYPES = {
    "screening.screenerpage": "screener",
    "screening.programpage": "program",
    "cms.blogpostpage": "blog",
    "cms.eventresourcespage": "event",
}


def _requires(default: bool) -> models.BooleanField:
    return models.BooleanField(_("requires clinical review"), default=default)


def _months() -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        _("review every (months)"),
        default=12,
        help_text=_("An approval sets “Next review due” this many months ahead."),
    )


def _lapse() -> models.CharField:
    return models.CharField(
        _("when the review is due"),
        max_length=16,
        choices=LapseAction.choices,
        default=LapseAction.BANNER,
    )


def _panel(prefix: str, heading) -> MultiFieldPanel:
    return MultiFieldPanel(
        [
            FieldPanel(f"{prefix}_requires_review"),
            FieldRowPanel([FieldPanel(f"{prefix}_review_months"), FieldPanel(f"{prefix}_lapse")]),
        ],
        heading=heading,
    )


@register_setting(icon="clipboard-list")
class ClinicalGovernanceSettings(BaseSiteSetting):
    """Which page types need an approved clinical review to go live, and for how long."""

    screener_requires_review = _requires(True)
    screener_review_months = _months()
    screener_lapse = _lapse()
    program_requires_review = _requires(False)
    program_review_months = _months()
    program_lapse = _lapse()
    blog_requires_review = _requires(False)
    blog_review_months = _months()
    blog_lapse = _lapse()
    event_requires_review = _requires(False)
    event_review_months = _months()
    event_lapse = _lapse()

    panels = [
        _panel("screener", _("Screener pages")),
        _panel("program", _("Program page")),
        _panel("blog", _("Blog posts")),
        _panel("event", _("Seeds of Hope event pages")),
    ]

    class Meta:
        verbose_name = _("Clinical governance")

    def for_type(self, label: str) -> TypePolicy | None:
        """The policy of a page type (``app_label.model``), or None if it is not health content."""
        prefix = HEALTH_TYPES.get(label.lower())
        if prefix is None:
            return None
        return TypePolicy(
            requires_review=getattr(self, f"{prefix}_requires_review"),
            review_months=getattr(self, f"{prefix}_review_months"),
            lapse_action=getattr(self, f"{prefix}_lapse"),
        )
