"""Quiet, useful logs: an idle stack is silent, a hub that is down is one line per retry.

The idle and hub tests run a real worker and beat (their own `-l info` output, with the
project's logging config); the others check the filters and the JSON format directly.
"""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
import time

import pytest
import requests
from django.conf import settings
from django.core.cache import cache

from cms.request_id import request_id_var
from cms.views import BEAT_TICK_CACHE_KEY
from tests.publishing.receivers import free_port
from tests.services import wait_until

IDLE_WINDOW = 15.0  # seconds of idle stack observed
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ", re.M)


def _lines_after(text: str, mark: int) -> list[str]:
    return LINE.findall(text[mark:])


@pytest.mark.services
def test_an_idle_worker_and_beat_print_at_most_a_line_in_15_seconds(celery_processes, db):
    worker = celery_processes("worker")
    beat = celery_processes("beat")
    wait_until(lambda: "took the lease" in beat.output(), 30, what="beat to lead")
    # The sweep runs (it stamps the tick every second) while we watch.
    first_tick = wait_until(lambda: cache.get(BEAT_TICK_CACHE_KEY), 30, what="a first sweep")
    marks = {worker: len(worker.output()), beat: len(beat.output())}
    deadline = time.monotonic() + IDLE_WINDOW
    while time.monotonic() < deadline:
        new = [line for p, m in marks.items() for line in _lines_after(p.output(), m)]
        assert len(new) <= 1, "idle stack logged:\n" + "\n".join(
            p.output()[m:][-3000:] for p, m in marks.items()
        )
        time.sleep(0.5)
    assert cache.get(BEAT_TICK_CACHE_KEY) > first_tick + IDLE_WINDOW - 3, "the sweep stopped"
    for process in (worker, beat):
        assert "Sending due task scheduler-sweep" not in process.output()
        assert "scheduler_sweep" not in process.output()[marks[process] :]


@pytest.mark.services
def test_a_hub_that_is_down_logs_one_line_per_retry_without_traceback(celery_processes, db):
    from publishing.syndication.websub import ping_hub

    worker = celery_processes("worker")
    mark = len(worker.output())
    hub = f"http://127.0.0.1:{free_port()}/hub"
    ping_hub.delay(hub, ["http://testserver/feeds/blog/rss/"])
    wait_until(
        lambda: len(re.findall(r"ping_hub to .* \(retry 2 of", worker.output())) >= 1,
        60,
        what="two retries to be logged",
    )
    new = worker.output()[mark:]
    lines = [line for line in new.splitlines() if line.strip()]
    retries = [line for line in lines if "ping_hub to" in line]
    assert len(retries) >= 2
    for line in retries:
        assert f"ping_hub to {hub} failed (" in line and "Connection refused" in line, line
        assert re.search(r"; Retry in \d+ s \(retry \d+ of 8\)$", line), line
    assert "Traceback" not in new
    # Nothing else about it: neither Celery's own retry line nor "received".
    assert [line for line in lines if "ping_hub" in line] == retries, new[-3000:]


def _handler_with_project_filters(stream: io.StringIO, fmt: str = "plain") -> None:
    """The root logger through a handler configured as the settings' console handler."""
    config = json.loads(json.dumps(settings.LOGGING))  # a copy: dictConfig mutates it
    console = config["handlers"]["console"]
    config["handlers"] = {"capture": {**console, "formatter": fmt, "stream": stream}}
    config["root"] = {"handlers": ["capture"], "level": "INFO"}
    config["loggers"] = {}
    logging.config.dictConfig(config)


@pytest.fixture
def captured():
    """The root logger, temporarily writing through the project's filters into a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()

    def use(fmt: str = "plain") -> io.StringIO:
        _handler_with_project_filters(stream, fmt)
        return stream

    yield use
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.config.dictConfig(settings.LOGGING)


def test_a_task_giving_up_on_a_connection_error_logs_one_line_without_traceback(captured):
    stream = captured()
    try:
        requests.get(f"http://127.0.0.1:{free_port()}/partner", timeout=2)
    except requests.ConnectionError as exc:
        error = exc
    logging.getLogger("celery.app.trace").error(
        "Task %(name)s[%(id)s] %(description)s: %(exc)s",
        {
            "name": "publishing.syndication.websub.ping_hub",
            "id": "abc",
            "description": "raised",
            "exc": "x",
        },  # fmt: skip
        exc_info=(type(error), error, error.__traceback__),
    )
    out = stream.getvalue()
    assert out.count("\n") == 1, out
    assert "Traceback" not in out
    assert "publishing.syndication.websub.ping_hub gave up: NewConnectionError" in out
    assert "Connection refused" in out and "/partner" in out


def test_unexpected_task_errors_keep_their_traceback(captured):
    stream = captured()
    try:
        raise ValueError("a bug")
    except ValueError as exc:
        error = exc
    logging.getLogger("celery.app.trace").error(
        "Task %(name)s[%(id)s] raised: %(exc)s",
        {"name": "t", "id": "1", "exc": "ValueError"},
        exc_info=(type(error), error, error.__traceback__),
    )
    assert "Traceback" in stream.getvalue() and "a bug" in stream.getvalue()


def test_quiet_tasks_lines_are_dropped_and_others_kept(captured):
    stream = captured()
    beat, trace = logging.getLogger("celery.beat"), logging.getLogger("celery.app.trace")
    sweep = settings.CELERY_BEAT_SCHEDULE["scheduler-sweep"]["task"]
    assert sweep in settings.LOG_QUIET_TASKS
    beat.info("Scheduler: Sending due task %s (%s)", "scheduler-sweep", sweep)
    trace.info(
        "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s",
        {"name": sweep, "id": "1", "runtime": 0.01, "return_value": "{}"},
    )
    beat.info("Scheduler: Sending due task %s (%s)", "webhooks-prune", "prune_delivery_log")
    trace.info(
        "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s",
        {"name": "publishing.scheduler.tasks.publish_scheduled_revision", "id": "2",
         "runtime": 0.2, "return_value": "published"},
    )  # fmt: skip
    out = stream.getvalue()
    assert "scheduler_sweep" not in out and "scheduler-sweep" not in out
    assert "webhooks-prune" in out and "publish_scheduled_revision[2] succeeded" in out


@pytest.mark.django_db
def test_production_json_logs_keep_request_and_task_ids(captured, settings):
    from celery import shared_task

    stream = captured("json")
    token = request_id_var.set("req-12345678")
    try:
        logging.getLogger("cms.test").info("in a request")
    finally:
        request_id_var.reset(token)

    @shared_task(name="tests.ops.log_something")
    def log_something() -> None:
        logging.getLogger("cms.test").info("in a task")

    result = log_something.apply(task_id="task-87654321")
    assert result.successful()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_message = {record["message"]: record for record in records}
    assert by_message["in a request"]["request_id"] == "req-12345678"
    assert by_message["in a task"]["task_id"] == "task-87654321"
    assert {"time", "level", "logger"} <= set(by_message["in a task"])


@pytest.mark.django_db
def test_a_partner_that_is_down_is_one_line_without_traceback(
    captured, seed, settings, django_capture_on_commit_callbacks
):
    import datetime as dt

    from cms.models import Author
    from publishing.models import Delivery, Partner
    from tests.factories import make_post

    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    port = free_port()
    partner = Partner(name="down", endpoint_url=f"http://127.0.0.1:{port}/hooks?token=s3cret")
    partner.full_clean()
    partner.save()
    stream = captured()
    with django_capture_on_commit_callbacks(execute=True):
        make_post(seed["blog"], "Partner down", dt.date(2024, 5, 1), Author.objects.first())
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED
    lines = [line for line in stream.getvalue().splitlines() if f"127.0.0.1:{port}" in line]
    assert len(lines) == 1, stream.getvalue()
    assert f"webhook delivery {delivery.pk} to http://127.0.0.1:{port}/hooks failed (" in lines[0]
    assert re.search(r"\(\[Errno 111\] Connection refused\); retry in \d+ s$", lines[0]), lines[0]
    assert "s3cret" not in stream.getvalue() and "Traceback" not in stream.getvalue()
