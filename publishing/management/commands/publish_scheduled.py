"""``manage.py publish_scheduled``, overriding Wagtail's, through the scheduler's claim path.

Wagtail's command takes no lock and stops at the first exception. This one claims each
item with the same row lock as the Celery tasks, so it can run while beat and workers
run (nothing is published twice), and one bad item is logged and skipped.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from publishing.scheduler import engine as scheduler


class Command(BaseCommand):
    help = (
        "Publish scheduled revisions, expire objects and lapse clinical reviews that are due"
        " now (safe alongside beat)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dryrun",
            action="store_true",
            default=False,
            help="List what is due without changing anything.",
        )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        if options["dryrun"]:
            expiries = list(scheduler.due_expiries(now))
            revisions = list(scheduler.due_revisions(now))
            self.stdout.write(f"{len(expiries)} expiries due:")
            for content_type_id, object_id, when in expiries:
                self.stdout.write(f"  {when.isoformat()}  type {content_type_id} id {object_id}")
            self.stdout.write(f"{len(revisions)} revisions due to go live:")
            for revision_id, object_id, when in revisions:
                self.stdout.write(f"  {when.isoformat()}  revision {revision_id} of {object_id}")
            lapses = scheduler.review_lapse.due_lapses(now)
            self.stdout.write(f"{len(lapses)} clinical reviews due to lapse:")
            for label, page_id, when in lapses:
                self.stdout.write(f"  {when.isoformat()}  {label} {page_id}")
            return
        counts = scheduler.run_due_now(now)
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        self.stdout.write(summary or "nothing due")
