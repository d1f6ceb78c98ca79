"""The service suite's real worker and broker work end to end (its own smoke test)."""

import time

import pytest
from django.core.cache import cache

from cms.views import BEAT_TICK_CACHE_KEY
from publishing.tasks import beat_tick
from tests.services import wait_until


@pytest.mark.services
def test_real_worker_runs_a_task_sent_through_the_real_broker(celery_worker):
    before = time.time()
    beat_tick.delay()
    tick = wait_until(
        lambda: cache.get(BEAT_TICK_CACHE_KEY), 20, what="the worker to run beat_tick"
    )
    assert tick >= before


@pytest.mark.services
def test_healthz_reports_broker_and_beat(celery_processes, client, seed):
    response = client.get("/healthz")
    assert response.status_code == 503  # beat has not ticked yet
    body = response.json()
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["beat"] == {"ok": False, "age_seconds": None}

    celery_processes("worker")
    celery_processes("beat")
    wait_until(
        lambda: client.get("/healthz").status_code == 200, 30, what="healthz to turn healthy"
    )
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["checks"]["beat"]["age_seconds"] < 30
