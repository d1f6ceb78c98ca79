"""What an approved Clinical review records: who, when, and when it is due again.

Written into the approved revision's content before Wagtail publishes it, so the page
that goes live carries its own review (reader footer, API, JSON-LD) and a later revision
carries nothing it was not approved with.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.text import slugify
from wagtail.models import TaskState

from cms.models import Author
from publishing.governance.policy import next_review, policy_for
from publishing.models import ScheduleIssue
from publishing.models.governance import HEALTH_TYPES


def author_for(user: AbstractBaseUser) -> Author:
    """The author credited for ``user``'s reviews; created from the account if missing."""
    author = Author.objects.filter(user=user).first()
    if author is not None:
        return author
    name = (user.get_full_name() or user.get_username()).strip()
    base = slugify(name) or f"reviewer-{user.pk}"
    slug, n = base, 1
    while Author.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return Author.objects.create(name=name, slug=slug, user=user)


def record_approval(task_state: TaskState, user: AbstractBaseUser | None) -> None:
    """Fill "Reviewed by", "Last reviewed" and "Next review due" on the approved revision."""
    revision = task_state.revision
    page = revision.as_object()
    if page._meta.label_lower not in HEALTH_TYPES or user is None:
        return
    today = timezone.localdate()
    author = author_for(user)
    content = dict(revision.content)
    content.update(
        reviewed_by=author.pk,
        last_reviewed=today.isoformat(),
        next_review_due=next_review(today, policy_for(page)).isoformat(),
        review_lapsed_on=None,
    )
    if "clinical_signoff_at" in content:  # the screener's own sign-off fields
        content["clinical_signoff_at"] = timezone.now().isoformat()
        content["clinical_signoff_by"] = str(author)[:200]
    revision.content = content
    revision.save(update_fields=["content"])
    # A scheduled go-live held for want of this approval may now go ahead.
    ScheduleIssue.objects.filter(revision_id=revision.pk, resolved=False).update(resolved=True)
