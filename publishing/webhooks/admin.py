"""Wagtail admin for partner webhooks: partners (secret shown once) and the delivery log."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets.button import Button
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from publishing.models import Delivery, Partner
from publishing.models.webhooks import content_type_choices
from publishing.webhooks.delivery import redeliver
from publishing.webhooks.events import enqueue

# A new secret is shown through a signed, short-lived, single-use link rather than kept
# anywhere: the token names the partner, the admin and a keyed fingerprint of the secret
# (so it cannot reveal a later one), and the secret itself is read from the Partner row,
# the only place it lives (it must stay readable to sign with). The nonce's single use
# is recorded in the cache; if the cache cannot record it, the secret is not shown.
REVEAL_SALT = "publishing.webhooks.secret-reveal"
REVEAL_MAX_AGE = 300  # seconds between saving and the page that shows the secret
REVEAL_USED_PREFIX = "webhooks:secret-revealed:"


def secret_fingerprint(secret: str) -> str:
    """A keyed hash of a secret: lets a token name it without containing it."""
    return salted_hmac(REVEAL_SALT, secret, algorithm="sha256").hexdigest()[:32]


def reveal_url(request: HttpRequest, partner: Partner) -> str:
    """The one link that shows ``partner``'s current secret, once, to this admin."""
    token = signing.dumps(
        {
            "partner": partner.pk,
            "user": request.user.pk,
            "secret": secret_fingerprint(partner.secret),
            "nonce": secrets.token_urlsafe(16),
        },
        salt=REVEAL_SALT,
        compress=True,
    )
    return reverse("webhook_partners:secret", args=[partner.pk]) + "?" + urlencode({"t": token})


def reveal_secret_once(request: HttpRequest, partner: Partner) -> str | None:
    """The secret if the link is valid for this admin and partner and unused, else None."""
    try:
        claims = signing.loads(request.GET.get("t", ""), salt=REVEAL_SALT, max_age=REVEAL_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if (
        not isinstance(claims, dict)
        or claims.get("partner") != partner.pk
        or claims.get("user") != request.user.pk
        or not constant_time_compare(
            str(claims.get("secret", "")), secret_fingerprint(partner.secret)
        )
    ):
        return None
    # ``add`` succeeds for the first view only; the record outlives the token itself.
    if not cache.add(REVEAL_USED_PREFIX + str(claims["nonce"]), 1, timeout=REVEAL_MAX_AGE + 60):
        return None
    return partner.secret


class WebhookAdminPage(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """A plain admin page under Webhooks, with breadcrumbs back to its listing."""

    index_url_name = ""
    index_label = ""

    def get_breadcrumbs_items(self) -> list[dict]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": self.index_label},
            {"url": "", "label": self.get_page_title()},
        ]


class PartnerForm(WagtailAdminModelForm):
    content_types = forms.MultipleChoiceField(
        label=_("Content types"),
        choices=content_type_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Which content the partner receives; none selected means all."),
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Comma-separated. Only pages with one of these tags; empty means any page."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags or [])

    def clean_tags(self) -> list[str]:
        return [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]


class PartnerCreateView(generic.CreateView):
    def get_success_url(self) -> str:
        return reveal_url(self.request, self.object)


@method_decorator(never_cache, name="dispatch")
class PartnerSecretView(WebhookAdminPage):
    """Shows a new secret once; reloading shows that it is gone. Never cached anywhere."""

    model = Partner
    index_url_name = "webhook_partners:index"
    index_label = _("Partners")
    permission_required = "change"
    template_name = "publishing/webhooks/partner_secret.html"
    page_title = _("Partner signing secret")
    header_icon = "key"

    def get_context_data(self, **kwargs) -> dict:
        partner = get_object_or_404(Partner, pk=self.kwargs["pk"])
        return super().get_context_data(
            partner=partner,
            secret=reveal_secret_once(self.request, partner),
            index_url=reverse("webhook_partners:index"),
            **kwargs,
        )


class PartnerRotateView(WebhookAdminPage):
    """Confirm, then replace the secret; the old one keeps signing for the grace period."""

    model = Partner
    index_url_name = "webhook_partners:index"
    index_label = _("Partners")
    permission_required = "change"
    template_name = "publishing/webhooks/confirm.html"
    page_title = _("Rotate signing secret")
    header_icon = "key"

    def get_context_data(self, **kwargs) -> dict:
        partner = get_object_or_404(Partner, pk=self.kwargs["pk"])
        return super().get_context_data(
            object=partner,
            question=_(
                "Create a new secret for %(name)s? The current secret keeps signing "
                "for a grace period, so the partner can switch without losing pushes."
            )
            % {"name": partner.name},
            action_label=_("Rotate secret"),
            cancel_url=reverse("webhook_partners:index"),
            **kwargs,
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        partner = get_object_or_404(Partner, pk=pk)
        partner.rotate_secret()
        return redirect(reveal_url(request, partner))


class PartnerIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance: Partner) -> list:
        buttons = super().get_list_more_buttons(instance)
        if self.user_has_permission("change"):
            buttons.append(
                Button(
                    _("Rotate secret"),
                    url=reverse("webhook_partners:rotate", args=[instance.pk]),
                    icon_name="key",
                    priority=40,
                )
            )
        buttons.append(
            Button(
                _("Deliveries"),
                url=reverse("webhook_deliveries:index") + f"?partner={instance.pk}",
                icon_name="resubmit",
                priority=50,
            )
        )
        return buttons


class PartnerViewSet(ModelViewSet):
    model = Partner
    icon = "link"
    menu_label = _("Partners")
    url_namespace = "webhook_partners"
    url_prefix = "webhooks/partners"
    add_view_class = PartnerCreateView
    index_view_class = PartnerIndexView
    copy_view_enabled = False
    list_display = [
        "name",
        "endpoint_url",
        BooleanColumn("active", label=_("Active")),
        "contact_email",
    ]
    list_filter = ["active"]
    search_fields = ["name", "endpoint_url", "contact_email"]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("endpoint_url"),
            FieldPanel("active"),
            FieldPanel("content_types"),
            FieldPanel("tags"),
            FieldPanel("contact_email"),
        ],
        base_form_class=PartnerForm,
    )

    def get_urlpatterns(self) -> list:
        return super().get_urlpatterns() + [
            path("secret/<int:pk>/", PartnerSecretView.as_view(), name="secret"),
            path("rotate/<int:pk>/", PartnerRotateView.as_view(), name="rotate"),
        ]


class DeliveryPermissionPolicy(ModelPermissionPolicy):
    """The log is read-only; "redeliver" needs the change permission on deliveries."""

    def user_has_permission(self, user, action: str) -> bool:
        if action in {"add", "change", "delete"}:
            return False
        if action == "redeliver":
            action = "change"
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions) -> bool:
        return any(self.user_has_permission(user, action) for action in actions)


class DeliveryInspectView(generic.InspectView):
    template_name = "publishing/webhooks/delivery_inspect.html"

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(
            attempts=self.object.attempt_log.all(),
            can_redeliver=self.user_has_permission("redeliver"),
            redeliver_url=reverse("webhook_deliveries:redeliver", args=[self.object.pk]),
            **kwargs,
        )


class DeliveryRedeliverView(WebhookAdminPage):
    model = Delivery
    index_url_name = "webhook_deliveries:index"
    index_label = _("Webhook deliveries")
    permission_required = "redeliver"
    template_name = "publishing/webhooks/confirm.html"
    page_title = _("Redeliver")
    header_icon = "resubmit"

    def get_context_data(self, **kwargs) -> dict:
        delivery = get_object_or_404(Delivery, pk=self.kwargs["pk"])
        return super().get_context_data(
            object=delivery,
            question=_(
                "Send %(delivery)s again? It keeps its webhook-id, so the partner can "
                "drop it if it already has it."
            )
            % {"delivery": delivery},
            action_label=_("Redeliver"),
            cancel_url=reverse("webhook_deliveries:inspect", args=[delivery.pk]),
            **kwargs,
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        delivery = get_object_or_404(Delivery, pk=pk)
        with transaction.atomic():
            redeliver(delivery)
            transaction.on_commit(lambda: enqueue([delivery.pk]))
        messages.success(request, _("Delivery queued again."))
        return redirect("webhook_deliveries:inspect", pk=delivery.pk)


class DeliveryIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance: Delivery) -> list:
        buttons = super().get_list_more_buttons(instance)
        if self.user_has_permission("redeliver"):
            buttons.append(
                Button(
                    _("Redeliver"),
                    url=reverse("webhook_deliveries:redeliver", args=[instance.pk]),
                    icon_name="resubmit",
                    priority=40,
                )
            )
        return buttons


class DeliveryViewSet(ModelViewSet):
    model = Delivery
    icon = "resubmit"
    menu_label = _("Deliveries")
    url_namespace = "webhook_deliveries"
    url_prefix = "webhooks/deliveries"
    index_view_class = DeliveryIndexView
    inspect_view_class = DeliveryInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        Column("event", label=_("Event"), accessor="event"),
        Column("partner", label=_("Partner"), accessor="partner"),
        Column("state", label=_("State"), accessor="get_state_display"),
        Column("attempts", label=_("Attempts"), accessor="attempts"),
        Column("last_status", label=_("Last status"), accessor="last_status"),
        DateColumn("created_at", label=_("Created")),
    ]
    list_filter = ["partner", "state"]
    inspect_view_fields = [
        "event",
        "partner",
        "webhook_id",
        "state",
        "attempts",
        "last_status",
    ]
    # Never creatable or editable by hand: only publishes create deliveries.
    form_fields = ["state"]

    def get_queryset(self, request: HttpRequest):
        return Delivery.objects.select_related("event", "partner")

    def get_urlpatterns(self) -> list:
        return super().get_urlpatterns() + [
            path("redeliver/<int:pk>/", DeliveryRedeliverView.as_view(), name="redeliver"),
        ]


register_permission_policy(Delivery, DeliveryPermissionPolicy(Delivery))


class WebhooksGroup(ModelViewSetGroup):
    menu_label = _("Webhooks")
    menu_icon = "resubmit"
    menu_order = 800
    items = (PartnerViewSet, DeliveryViewSet)
