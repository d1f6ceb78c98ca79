"""Publishing models, one module per area (scheduling, feeds, webhooks)."""

from .scheduling import ScheduleIssue  # noqa: F401
