"""The publish pipeline's record of a CDN purge that has not succeeded yet.

Written only when the first purge after commit fails: it carries what the change must
still announce (WebSub topics, held webhook deliveries) until a retry purges the CDN,
or until ``FRONTEND_CACHE_MAX_WAIT_SECONDS`` pass and the notifications go out anyway
(an operator sees both in /healthz and on the admin dashboard).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CdnPurge(models.Model):
    class State(models.TextChoices):
        RETRYING = "retrying", _("retrying")
        PURGED = "purged", _("purged")
        GAVE_UP = "gave_up", _("gave up; partners notified anyway")

    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.RETRYING, db_index=True
    )
    urls = models.JSONField(_("URLs"), default=list)
    topics = models.JSONField(_("WebSub topics"), default=list)
    delivery_ids = models.JSONField(_("held deliveries"), default=list)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("CDN purge")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"purge of {len(self.urls)} URL(s): {self.state}"
