"""Publishing models, one module per area (scheduling, feeds, webhooks)."""

from .webhooks import (  # noqa: F401
    Delivery,
    DeliveryAttempt,
    Partner,
    WebhookEvent,
    WebhookPageState,
)
