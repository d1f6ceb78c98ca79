"""``manage.py partners add|list|remove|rotate|redeliver``: partner webhooks for automation.

The secret is printed once, by ``add`` and ``rotate``; nothing else ever shows it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from publishing.models import Delivery, Partner
from publishing.models.webhooks import content_type_choices
from publishing.webhooks.delivery import redeliver
from publishing.webhooks.events import enqueue


def csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class Command(BaseCommand):
    help = "Manage partner webhook endpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add a partner; prints its id and secret (once).")
        add.add_argument("name")
        add.add_argument("url")
        types = ",".join(key for key, _label in content_type_choices())
        add.add_argument("--types", default="", help=f"Comma-separated: {types} (default all).")
        add.add_argument("--tags", default="", help="Comma-separated tags (default any).")
        add.add_argument("--email", default="", help="Contact email.")
        sub.add_parser("list", help="List partners (never their secrets).")
        remove = sub.add_parser("remove", help="Delete a partner and its delivery log.")
        remove.add_argument("partner_id", type=int)
        rotate = sub.add_parser("rotate", help="New secret; the old one signs for a grace period.")
        rotate.add_argument("partner_id", type=int)
        again = sub.add_parser("redeliver", help="Send deliveries again (same webhook-id).")
        again.add_argument("delivery_ids", type=int, nargs="*")
        again.add_argument(
            "--partner", type=int, help="Redeliver every dead delivery of this partner."
        )

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"do_{action}")(**options)

    def do_add(self, name: str, url: str, types: str, tags: str, email: str, **_options) -> None:
        partner = Partner(
            name=name,
            endpoint_url=url,
            content_types=csv(types),
            tags=csv(tags),
            contact_email=email,
        )
        try:
            partner.full_clean()
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
            )
            raise CommandError(problems) from exc
        partner.save()
        self.stdout.write(f"id: {partner.pk}")
        self.stdout.write(f"secret: {partner.secret}")
        self.stdout.write("Store the secret now: it will not be shown again.")

    def do_list(self, **_options) -> None:
        partners = Partner.objects.all()
        if not partners:
            self.stdout.write("No partners.")
        for partner in partners:
            state = "active" if partner.active else f"inactive {partner.disabled_reason}".strip()
            types = ",".join(partner.content_types) or "all"
            tags = ",".join(partner.tags) or "any"
            self.stdout.write(
                f"{partner.pk}\t{partner.name}\t{partner.endpoint_url}\t{state}\t"
                f"types={types}\ttags={tags}"
            )

    def _partner(self, partner_id: int) -> Partner:
        try:
            return Partner.objects.get(pk=partner_id)
        except Partner.DoesNotExist:
            raise CommandError(f"No partner with id {partner_id}.") from None

    def do_remove(self, partner_id: int, **_options) -> None:
        partner = self._partner(partner_id)
        partner.delete()
        self.stdout.write(f"Removed partner {partner_id} ({partner.name}).")

    def do_rotate(self, partner_id: int, **_options) -> None:
        secret = self._partner(partner_id).rotate_secret()
        self.stdout.write(f"secret: {secret}")
        self.stdout.write("The previous secret keeps signing during the grace period.")

    def do_redeliver(self, delivery_ids: list[int], partner: int | None, **_options) -> None:
        if partner is not None:
            self._partner(partner)
            delivery_ids = list(
                Delivery.objects.filter(partner_id=partner, state=Delivery.State.DEAD).values_list(
                    "pk", flat=True
                )
            )
        elif not delivery_ids:
            raise CommandError("Give delivery ids, or --partner ID.")
        deliveries = list(Delivery.objects.filter(pk__in=delivery_ids))
        missing = sorted(set(delivery_ids) - {d.pk for d in deliveries})
        if missing:
            raise CommandError(f"No delivery with id {', '.join(map(str, missing))}.")
        with transaction.atomic():
            for delivery in deliveries:
                redeliver(delivery)
            ids = [d.pk for d in deliveries]
            transaction.on_commit(lambda: enqueue(ids))
        self.stdout.write(f"Queued {len(ids)} deliver{'y' if len(ids) == 1 else 'ies'} again.")
