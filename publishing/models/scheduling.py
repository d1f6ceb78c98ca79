"""What the scheduler could not do, kept where an editor can see it.

Wagtail's own fields (``Revision.approved_go_live_at``, ``expire_at``) stay the source of
truth for *what* is scheduled; this table only records items the scheduler skipped or
failed on, so the "Scheduled" report can show them instead of a log line nobody reads.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ScheduleIssue(models.Model):
    """One skipped or failed scheduled publish/expiry; retried until ``attempts`` runs out."""

    class Action(models.TextChoices):
        PUBLISH = "publish", _("go live")
        EXPIRE = "expire", _("expire")
        # A scheduled page went live but its follow-up (page_published: webhooks, WebSub)
        # kept failing: partners were not told.
        NOTIFY = "notify", _("tell partners")

    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("content type"), null=True, on_delete=models.CASCADE
    )
    object_id = models.CharField(_("object id"), max_length=255, blank=True)
    # No foreign key: the revision may be the thing that was deleted.
    revision_id = models.BigIntegerField(_("revision id"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=255, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled at"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    # A skip is final (retrying cannot help); a failure is retried a few times.
    final = models.BooleanField(_("final"), default=False)
    resolved = models.BooleanField(_("resolved"), default=False, db_index=True)
    first_seen_at = models.DateTimeField(_("first seen at"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen at"), auto_now=True)

    class Meta:
        verbose_name = _("schedule issue")
        verbose_name_plural = _("schedule issues")
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["action", "object_id", "revision_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.title or self.object_id}: {self.reason}"


class GoLiveFollowUp(models.Model):
    """What follows a scheduled page's go-live, still to run (``page_published`` and the
    rest of Wagtail's after-publish step).

    Written in the go-live transaction, deleted in the transaction that runs it
    (:mod:`publishing.scheduler.follow_up`), so the page goes live at its instant and
    what follows happens exactly once, even if the process dies between the two.
    """

    revision = models.OneToOneField(
        "wagtailcore.Revision", verbose_name=_("revision"), on_delete=models.CASCADE
    )
    page = models.ForeignKey(
        "wagtailcore.Page", verbose_name=_("page"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    #: Failed runs so far (a receiver raised); retried by the beat sweep up to a bound.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    #: The last time it was queued or tried: the sweep hands on rows idle since long ago.
    touched_at = models.DateTimeField(_("touched at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("go-live follow-up")
        verbose_name_plural = _("go-live follow-ups")

    def __str__(self) -> str:
        return f"after the go-live of revision {self.revision_id}"
