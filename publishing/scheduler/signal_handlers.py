"""Signal handlers of the scheduler, connected in ``PublishingConfig.ready()``.

Scheduling goes through ``Revision.publish()`` whoever calls it (admin, API, code), and
that saves ``approved_go_live_at`` on the revision: the one place to refuse a schedule
that could never be honoured, before anything is written.
"""

from django.db.models.signals import pre_save
from django.utils.dateparse import parse_datetime
from wagtail.models import Revision
from wagtail.signals import page_published

from publishing.scheduler import follow_up
from publishing.scheduler.engine import validate_schedule


def refuse_impossible_schedule(sender, instance: Revision, **kwargs) -> None:
    """An expiry before go-live is refused (Wagtail's admin form says so too, first)."""
    if instance.approved_go_live_at is None:
        return
    content = instance.content or {}
    expire_at = content.get("expire_at")
    if isinstance(expire_at, str):
        expire_at = parse_datetime(expire_at)
    validate_schedule(instance.approved_go_live_at, expire_at)


def register_signal_handlers() -> None:
    pre_save.connect(
        refuse_impossible_schedule, sender=Revision, dispatch_uid="publishing_scheduler_guard"
    )
    page_published.connect(follow_up.resolve_told, dispatch_uid="publishing_scheduler_told")
