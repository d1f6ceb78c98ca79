"""The per-page-type policy, read from the site's Clinical governance settings."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.utils import timezone

from publishing.models.governance import (
    HEALTH_TYPES,
    ClinicalGovernanceSettings,
    TypePolicy,
)


def policy_for(page: models.Model) -> TypePolicy | None:
    """The policy of ``page``'s type on its site (defaults when it has no site yet)."""
    label = page._meta.label_lower
    if label not in HEALTH_TYPES:
        return None
    site = page.get_site() if getattr(page, "path", None) else None
    setting = (
        ClinicalGovernanceSettings.for_site(site)
        if site is not None
        else ClinicalGovernanceSettings()
    )
    return setting.for_type(label)


def is_gated(page: models.Model) -> bool:
    policy = policy_for(page)
    return bool(policy and policy.requires_review)


def next_review(reviewed_on: dt.date, policy: TypePolicy | None) -> dt.date:
    """The day a review approved on ``reviewed_on`` is due again."""
    months = policy.review_months if policy else 12
    return reviewed_on + relativedelta(months=months)


def lapse_at(due: dt.date) -> dt.datetime:
    """The instant a review due on ``due`` lapses: that day at ``CLINICAL_REVIEW_LAPSE_TIME``
    (the start of the day by default), site time zone. The one rule for when a review lapses:
    the scheduler arms lapses for it and the publish gate holds go-lives by it."""
    at = dt.time.fromisoformat(getattr(settings, "CLINICAL_REVIEW_LAPSE_TIME", "00:00"))
    return timezone.make_aware(dt.datetime.combine(due, at))
