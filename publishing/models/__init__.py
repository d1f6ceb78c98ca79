"""Publishing models, one module per area (scheduling, feeds, webhooks)."""

from .governance import ClinicalGovernanceSettings, ClinicalReviewTask  # noqa: F401
from .pipeline import CdnPurge  # noqa: F401
from .releases import CalendarFeedToken, Release, ReleaseItem  # noqa: F401
from .scheduling import GoLiveFollowUp, ScheduleIssue  # noqa: F401
from .webhooks import (  # noqa: F401
    ChangesHorizon,
    Delivery,
    DeliveryAttempt,
    Partner,
    WebhookEvent,
    WebhookPageState,
)
