"""How the scheduler's Celery tasks retry.

Transient database trouble (SQLite busy, a PostgreSQL deadlock victim, a dropped
connection) is retried quickly; whatever is still undone is re-armed by the beat sweep.
"""

from django.db import DatabaseError

RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 1,
    "retry_backoff_max": 8,
    "retry_jitter": True,
    "max_retries": 5,
}
