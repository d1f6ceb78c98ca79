"""The daily count stays exact when many readers finish at once, in separate connections."""

import datetime as dt
import threading

import pytest
from django.db import connections

from screening.models import ScreeningOutcomeCount


@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_are_not_lost(screener):
    day = dt.date(2026, 5, 6)
    threads, per_thread, errors = 6, 20, []
    start = threading.Barrier(threads)

    def reader() -> None:
        try:
            start.wait(timeout=30)
            for _ in range(per_thread):
                ScreeningOutcomeCount.record(screener.pk, "doctor", day)
        except Exception as exc:  # noqa: BLE001 - reported below with the assertion
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=reader) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a reader thread hung"
    assert errors == []
    row = ScreeningOutcomeCount.objects.get(screener=screener, outcome="doctor", date=day)
    assert row.count == threads * per_thread
