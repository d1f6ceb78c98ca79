"""Partner webhooks: who receives pushes, and the outbox of what must be delivered.

The ``Delivery`` row is the outbox: it is written in the same transaction as the
publish, so neither a dead worker nor an emptied broker can lose a push. Celery only
carries a hint ("send these ids now"); the database decides what is due.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cms import syndication

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret


def content_type_choices() -> list[tuple[str, str]]:
    """Content a partner can choose to receive (an empty choice means everything).

    Declared by the page classes themselves (``cms.syndication``), "other pages" last.
    """
    return syndication.partner_types()


def generate_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def content_type_of(model_label: str) -> str:
    """The partner-facing content type ("blog", "events", "pages") of a page model."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        model = None
    return syndication.partner_type_of(model)


class Partner(models.Model):
    """A partner site that receives signed pushes.

    The secret must stay readable to sign with (encryption at rest is out of scope),
    so it is never rendered after creation, kept out of ``repr`` and logs, and no API
    exposes this model. During rotation the previous secret keeps signing until
    ``previous_secret_expires_at`` so partners can switch without dropping pushes.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    endpoint_url = models.URLField(
        _("endpoint URL"),
        max_length=500,
        help_text=_("An http(s) URL that resolves to public addresses only."),
    )
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Switched off automatically when the endpoint answers 410 Gone."),
    )
    content_types = models.JSONField(
        _("content types"),
        default=list,
        blank=True,
        help_text=_("Which content the partner receives; none selected means all."),
    )
    tags = models.JSONField(
        _("tags"),
        default=list,
        blank=True,
        help_text=_("Only pages with at least one of these tags; empty means any page."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    secret = models.CharField(max_length=100, default=generate_secret, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(_("disabled because"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        # Never the secret, even in a traceback or a debug log.
        return f"<Partner {self.pk}: {self.name}>"

    def clean(self) -> None:
        from publishing.webhooks.security import UnsafeDestination, check_url

        super().clean()
        if self.endpoint_url:
            try:
                check_url(self.endpoint_url)
            except UnsafeDestination as exc:
                raise ValidationError({"endpoint_url": str(exc)}) from exc
        unknown = set(self.content_types or []) - {key for key, _label in content_type_choices()}
        if unknown:
            raise ValidationError(
                {"content_types": _("Unknown content types: %s") % ", ".join(sorted(unknown))}
            )

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets to sign with now: the current one, plus the previous during grace."""
        now = now or timezone.now()
        found = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and self.previous_secret_expires_at > now
        ):
            found.append(self.previous_secret)
        return found

    def rotate_secret(self) -> str:
        """Replace the secret; the old one keeps signing for the grace period. Returns the new."""
        grace = timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
        self.previous_secret = self.secret
        self.previous_secret_expires_at = timezone.now() + grace
        self.secret = generate_secret()
        self.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
        return self.secret

    def wants(self, model_label: str, page_tags: list[str]) -> bool:
        """Whether this partner's filter matches a page of ``model_label`` with ``page_tags``."""
        if self.content_types and content_type_of(model_label) not in self.content_types:
            return False
        if self.tags:
            wanted = {tag.lower() for tag in self.tags}
            if not wanted & {tag.lower() for tag in page_tags}:
                return False
        return True


class WebhookPageState(models.Model):
    """What partners were last told about a page, and its version counter.

    Lets a publish be told apart from an update (was it announced live before?), and
    gives every event a per-page, strictly increasing version so a partner can drop an
    older update that arrives after a newer one.
    """

    page_id = models.BigIntegerField(primary_key=True)
    version = models.PositiveBigIntegerField(default=0)
    announced_live = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"page {self.page_id} v{self.version}"


class WebhookEvent(models.Model):
    """One change to one page: fanned out to every matching partner, and the history the
    changes feed (``publishing.webhooks.changes``) serves.

    Written for every public change, whether or not a partner is subscribed, so the feed
    and the pushes share one history and one id. ``seq`` is stamped after commit, in
    commit order (see ``changes.stamp``): the feed's cursors are over it, so a publish
    that commits after a slower one started can never slip behind a cursor already
    handed out, as it could with the auto-increment id.
    """

    class Type(models.TextChoices):
        PUBLISHED = "page.published", _("page published")
        UPDATED = "page.updated", _("page updated")
        UNPUBLISHED = "page.unpublished", _("page unpublished")
        REVIEW_LAPSED = "page.review_lapsed", _("page clinical review lapsed")
        DELETED = "page.deleted", _("page deleted")

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(_("event"), max_length=32, choices=Type.choices)
    page_id = models.BigIntegerField(_("page id"), db_index=True)
    page_title = models.CharField(_("page"), max_length=255)
    version = models.PositiveBigIntegerField(_("version"))
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    data = models.JSONField(_("page data"))
    # --- for the changes feed -------------------------------------------------------
    #: Position in commit order; NULL until stamped after commit. Unique: its index is
    #: the range a page of changes reads.
    seq = models.BigIntegerField(_("sequence"), null=True, blank=True, unique=True)
    page_type = models.CharField(_("page type"), max_length=100, blank=True, default="")
    page_url = models.CharField(_("page URL"), max_length=500, blank=True, default="")
    #: The page's tags when the event happened, lower-cased, as ``|a|b|`` (a ``tag=``
    #: filter that works alike on SQLite and PostgreSQL).
    page_tags = models.CharField(_("page tags"), max_length=1000, blank=True, default="")

    class Meta:
        verbose_name = _("webhook event")
        ordering = ["-occurred_at"]
        indexes = [
            # ``?type=`` reads a range of this index; plain pages read the ``seq`` one.
            models.Index(fields=["page_type", "seq"], name="webhookevent_type_seq_idx"),
            # The stamper finds what is not stamped yet without walking the table.
            models.Index(
                fields=["id"], name="webhookevent_unstamped_idx", condition=Q(seq__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.page_title} (v{self.version})"

    @property
    def webhook_id(self) -> str:
        """The ``webhook-id`` of every push of this event, and its id in the changes feed."""
        return f"msg_{self.event_id.hex}"


class ChangesHorizon(models.Model):
    """One row: the changes feed's events up to ``pruned_through`` (a ``seq``) may be gone,
    so a cursor before it answers 410 rather than silently skip a tombstone."""

    pruned_through = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("changes feed horizon")

    def __str__(self) -> str:
        return f"pruned through {self.pruned_through}"


class Delivery(models.Model):
    """The outbox row: one event for one partner, until it succeeds or is dead."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        FAILED = "failed", _("failed, will retry")
        SUCCEEDED = "succeeded", _("succeeded")
        DEAD = "dead", _("dead")

    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("partner")
    )
    # Stable across retries and redeliveries, so the partner can drop duplicates; the
    # event's own id (``WebhookEvent.webhook_id``), so the changes feed names it alike.
    webhook_id = models.CharField(_("webhook id"), max_length=64, db_index=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # The lease: while in the future, one sender owns this delivery.
    locked_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.partner.name}"


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery, as shown in the delivery log."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    started_at = models.DateTimeField(_("time"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
