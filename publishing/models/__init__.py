"""Publishing models, one module per area (scheduling, feeds, webhooks)."""

from .pipeline import CdnPurge  # noqa: F401
from .scheduling import ScheduleIssue  # noqa: F401
from .webhooks import (  # noqa: F401
    Delivery,
    DeliveryAttempt,
    Partner,
    WebhookEvent,
    WebhookPageState,
)
