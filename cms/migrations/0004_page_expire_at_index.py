"""A partial index on ``wagtailcore_page.expire_at``, which Wagtail leaves unindexed.

The scheduler's sweep (every second) and the pages API (every request) ask for live pages
whose ``expire_at`` has passed or is near. Without an index PostgreSQL reads the whole page
table for that; with 100,000 pages that is most of the sweep's cost (see ``python -m
benchmarks scale``). Few pages ever have an expiry, so the index holds only those rows.
Plain SQL that SQLite and PostgreSQL both accept; not CONCURRENTLY, which PostgreSQL
refuses inside a transaction and SQLite does not know, and which a table this size does
not need (building it takes well under a second at 100,000 pages).
"""

from django.db import migrations

INDEX = "wagtailcore_page_expire_at_idx"


class Migration(migrations.Migration):
    # 0001 depends on wagtailcore, whose migrations create the table.
    dependencies = [("cms", "0003_health_review")]

    operations = [
        migrations.RunSQL(
            sql=(
                f"CREATE INDEX IF NOT EXISTS {INDEX} ON wagtailcore_page (expire_at)"
                " WHERE expire_at IS NOT NULL"
            ),
            reverse_sql=f"DROP INDEX IF EXISTS {INDEX}",
        ),
    ]
