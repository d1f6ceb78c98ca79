"""The per-page-type policy, read from the site's Clinical governance settings."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.db import models

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
