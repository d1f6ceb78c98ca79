"""The per-page-type policy, read from the site's Clinical governance settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.utils import timezone
from wagtail.models import Site

from publishing.models.governance import (
    HEALTH_TYPES,
    ClinicalGovernanceSettings,
    TypePolicy,
)

#: Set inside :func:`memoised`: (type, page) → policy, read once per unit of work.
_memo: ContextVar[dict | None] = ContextVar("governance_policy_memo", default=None)


@contextmanager
def memoised() -> Iterator[None]:
    """Read each page's policy once while this block runs (one scheduler batch, which
    checks it several times per page under one transaction); never across blocks, so an
    editor's change to the settings applies from the next one."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def policy_for(page: models.Model) -> TypePolicy | None:
    """The policy of ``page``'s type on its site (defaults when it has no site yet)."""
    label = page._meta.label_lower
    if label not in HEALTH_TYPES:
        return None
    memo = _memo.get()
    key = (label, page.pk, getattr(page, "path", None))
    if memo is not None and page.pk and key in memo:
        return memo[key]
    setting = None
    if not getattr(page, "path", None):
        pass  # not in the tree yet: no site
    elif memo is None:
        site = page.get_site()
        setting = ClinicalGovernanceSettings.for_site(site) if site else None
    else:
        setting = _memoised_setting(page, memo)
    setting = setting or ClinicalGovernanceSettings()
    policy = setting.for_type(label)
    if memo is not None and page.pk:
        memo[key] = policy
    return policy


class _SiteRootPaths:
    """Holds Wagtail's site root paths for one unit of work (``Page.get_url_parts`` caches
    them on the object it is given), so a batch reads them once, not once per page."""


def _memoised_setting(page: models.Model, memo: dict) -> ClinicalGovernanceSettings | None:
    """The settings of ``page``'s site, with the site found as ``Page.get_site`` finds it
    but from the unit of work's copy of the root paths: one read per batch, not two per
    page."""
    parts = page.get_url_parts(memo.setdefault("root_paths", _SiteRootPaths()))
    if parts is None:
        return None
    site_id = parts[0]
    if ("site", site_id) not in memo:
        memo["site", site_id] = ClinicalGovernanceSettings.for_site(Site.objects.get(pk=site_id))
    return memo["site", site_id]


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
