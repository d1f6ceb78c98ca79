"""Indexes for the orders readers and partners list posts in, newest first.

``cms_blogpostpage.date``: the blog index orders by (date, first_published_at, pk), all
descending; the first two live on different tables, so no one index covers the order,
but with ``date`` indexed PostgreSQL reads posts newest first and sorts only within each
date (an incremental sort) instead of sorting every post. ``wagtailcore_page
.first_published_at``: the pages API's ``order=-first_published_at`` (what partners and
the feeds' consumers ask for); Wagtail leaves it unindexed, so a plain SQL index as in
0004, which SQLite and PostgreSQL both accept.
"""

from django.db import migrations, models

FIRST_PUBLISHED_INDEX = "wagtailcore_page_first_published_at_idx"


class Migration(migrations.Migration):
    dependencies = [("cms", "0004_page_expire_at_index")]

    operations = [
        migrations.AddIndex(
            model_name="blogpostpage",
            index=models.Index(fields=["-date"], name="cms_blogpost_date_desc_idx"),
        ),
        migrations.RunSQL(
            sql=(
                f"CREATE INDEX IF NOT EXISTS {FIRST_PUBLISHED_INDEX}"
                " ON wagtailcore_page (first_published_at)"
            ),
            reverse_sql=f"DROP INDEX IF EXISTS {FIRST_PUBLISHED_INDEX}",
        ),
    ]
