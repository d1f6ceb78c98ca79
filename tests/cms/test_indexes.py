"""The partial ``expire_at`` index (cms migration 0004) exists and the sweep's query can use it.

Wagtail leaves ``wagtailcore_page.expire_at`` unindexed; the scheduler's sweep asks for due
expiries every second and the pages API on every request, so without the index each asks
PostgreSQL to read the whole page table (``python -m benchmarks scale`` measures it).
"""

import pytest
from django.db import connection
from django.utils import timezone
from wagtail.models import Page

from publishing.scheduler.engine import expiring

INDEX = "wagtailcore_page_expire_at_idx"


def _index_sql() -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX])
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [INDEX]
            )
        row = cursor.fetchone()
    return row[0] if row else ""


@pytest.mark.django_db
def test_expire_at_index_is_partial_on_the_page_table():
    sql = _index_sql().lower()
    assert "wagtailcore_page" in sql
    assert "(expire_at)" in sql
    # Partial: only the few pages with an expiry are in it.
    assert "where" in sql and "expire_at is not null" in sql


@pytest.mark.django_db
def test_sweep_expiry_query_can_use_the_index():
    if connection.vendor == "postgresql":
        # A test database is too small for the planner to prefer any index; forbid the
        # sequential scan (for this test's transaction only) to see whether it *can*.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    plan = expiring(Page, timezone.now()).explain()
    assert INDEX in plan, plan
