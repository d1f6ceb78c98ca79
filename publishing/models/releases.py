"""Releases (revisions that go live together at one instant) and private calendar feeds.

A release keeps no schedule of its own: scheduling it sets each revision's
``approved_go_live_at`` through ``revision.publish()``, so the one scheduler publishes
them (and the "Scheduled" report and the calendar show them) like any scheduled revision.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Release(models.Model):
    """A named set of revisions (pages and snippets) going live at ``go_live_at``."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        UNDONE = "undone", _("Undone")

    name = models.CharField(_("name"), max_length=255)
    go_live_at = models.DateTimeField(_("go live at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set once, by the one undo that wins (see publishing.scheduler.releases.undo_release).
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["-go_live_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def status(self) -> str:
        """Undone, live (its instant passed and no revision waits), or scheduled."""
        if self.undone_at is not None:
            return self.Status.UNDONE
        waiting = self.items.filter(revision__approved_go_live_at__isnull=False).exists()
        if self.go_live_at <= timezone.now() and not waiting:
            return self.Status.LIVE
        return self.Status.SCHEDULED


class ReleaseItem(models.Model):
    """One revision of a page or snippet in a release."""

    release = models.ForeignKey(
        Release, verbose_name=_("release"), on_delete=models.CASCADE, related_name="items"
    )
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        verbose_name=_("revision"),
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        verbose_name = _("release item")
        verbose_name_plural = _("release items")
        constraints = [
            models.UniqueConstraint(fields=["release", "revision"], name="release_item_once")
        ]

    def __str__(self) -> str:
        return self.revision.object_str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeedToken(models.Model):
    """The secret in one editor's calendar-feed address; only its hash is stored.

    Revoking deletes the row: the old address stops working at once.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feed_token",
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")

    def __str__(self) -> str:
        return str(_("Calendar feed of %(user)s")) % {"user": self.user}

    @classmethod
    def issue(cls, user) -> str:
        """A new secret for ``user`` (the previous one stops working); shown once."""
        token = secrets.token_urlsafe(32)
        cls.objects.update_or_create(user=user, defaults={"token_hash": _digest(token)})
        return token

    @classmethod
    def user_for(cls, token: str):
        """The active user whose feed ``token`` opens, or None."""
        row = (
            cls.objects.filter(token_hash=_digest(token), user__is_active=True)
            .select_related("user")
            .first()
        )
        return row.user if row else None
