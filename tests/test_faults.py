"""Faults with real processes: PostgreSQL stopped, beat stopped, partners that misbehave.

Each test runs the production topology on loopback (gunicorn, a Celery worker, Celery
beat, Redis, the database, partner receivers), breaks one piece as an operator would see
it break, polls /healthz all along, and then checks the contracts: every scheduled page
published exactly once, every webhook delivered, /healthz honest while it lasted and
green again afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from contextlib import contextmanager

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection, connections
from django.utils import timezone

from cms.models import BlogPostPage
from publishing.models import Partner
from tests.publishing.publish import (
    assert_published_once,
    live_count,
    retime,
    schedule_posts,
)
from tests.publishing.receivers import HANG, Receiver, free_port
from tests.services import (
    HealthPoller,
    PrivatePostgres,
    WebServer,
    redis_client,
    skip_or_fail,
    wait_until,
)

pytestmark = [pytest.mark.services]

# How long beat stays down; CI keeps it short, the 10 minutes is a manual run.
BEAT_OUTAGE = float(os.environ.get("FAULT_BEAT_OUTAGE_SECONDS", "20"))
PG_OUTAGE = 10.0
# /healthz may lag the fault by one poll plus one request at each edge.
EDGE = 2.0
ARMED_PATTERN = "publishing:scheduler:armed:publish:*"


@pytest.fixture
def fault_env(celery_env, settings):
    """Environment for web, worker and beat: loopback partners, short health thresholds."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    celery_env.update(
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        BEAT_MAX_AGE_SECONDS="4",
        HEALTH_OVERDUE_GRACE_SECONDS="3",
    )
    return celery_env


@pytest.fixture
def partners(fault_env):
    """Start loopback partner receivers on demand, each subscribed as a Partner."""
    started: list[Receiver] = []

    def start(name: str, **kwargs) -> Receiver:
        receiver = Receiver(**kwargs).start()
        started.append(receiver)
        partner = Partner(name=name, endpoint_url=receiver.url)
        partner.full_clean()
        partner.save()
        receiver.secret = partner.secret
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def web(fault_env, tmp_path):
    """Start gunicorn on demand against whatever the environment says at that moment."""
    started: list[WebServer] = []

    def start() -> WebServer:
        server = WebServer(dict(fault_env), tmp_path).start()
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


def published_pages(receiver: Receiver) -> dict[int, set[str]]:
    """Page id -> webhook-ids of the verified ``page.published`` events the partner got."""
    seen: dict[int, set[str]] = {}
    for item in receiver.received:
        assert item.verify_error == "", item.verify_error
        if item.payload and item.payload["type"] == "page.published":
            seen.setdefault(item.payload["data"]["id"], set()).add(item.headers["webhook-id"])
    return seen


def assert_every_webhook_delivered(receiver: Receiver, pairs) -> None:
    """Each page announced, one webhook-id each (a retry repeats the id, never a new one)."""
    seen = published_pages(receiver)
    missing = {post for post, _ in pairs} - set(seen)
    assert not missing, f"no webhook for pages {missing}"
    assert all(len(ids) == 1 for post, ids in seen.items() if post in dict(pairs)), seen


def wait_healthy(poller: HealthPoller, timeout: float, what: str) -> float:
    """Wait until /healthz answers 200; returns when (monotonic) it first did."""
    start = time.monotonic()

    def healthy() -> float | None:
        for sample in poller.between(start, time.monotonic()):
            if sample.status == 200:
                return sample.at
        return None

    return wait_until(healthy, timeout, interval=0.2, what=what)


def assert_no_broken_answers(poller: HealthPoller) -> None:
    """Never a hang, never a 500 page: always 200 or 503 with the JSON report."""
    broken = [s for s in poller.samples if s.status not in (200, 503) or s.body is None]
    assert not broken, broken[:3]


@contextmanager
def database_moved_to(host: str, port: int):
    """Point this process's ORM at another server holding the same database name."""
    conn = connections["default"]
    old = conn.settings_dict["HOST"], conn.settings_dict["PORT"]
    conn.close()
    conn.settings_dict.update(HOST=host, PORT=port)
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict.update(HOST=old[0], PORT=old[1])


@pytest.fixture
def postgres_run():
    """Skip before any database work when there is no PostgreSQL to stop."""
    if "postgresql" not in django_settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("runs in the PostgreSQL run: embedded defaults have no PostgreSQL to stop")
    missing = PrivatePostgres.missing()
    if missing:
        skip_or_fail(missing)


def test_postgresql_stopped_for_ten_seconds(
    postgres_run, seed, fault_env, celery_processes, partners, web, broker_url
):
    """Our own cluster (never the shared server) goes down while pages are due to go live."""
    receiver = partners("fault-partner")
    pg = PrivatePostgres(free_port()).init()
    try:
        pg.start()
        name = connection.settings_dict["NAME"]
        pg.copy_database(connection.settings_dict, name)
        fault_env["DATABASE_URL"] = pg.url(name)
        with database_moved_to("127.0.0.1", pg.port):
            _postgresql_outage(seed, pg, celery_processes, receiver, web, broker_url)
    finally:
        pg.destroy()


def _postgresql_outage(seed, pg, celery_processes, receiver, web, broker_url) -> None:
    celery_processes("worker")
    celery_processes("beat")
    server = web()
    with HealthPoller(server.url) as poller:
        wait_healthy(poller, 30, "/healthz to be green before the outage")
        # Due while the database is down: armed before, their ETA tasks fire mid-outage.
        # Scheduled a day ahead, then moved to their times once all exist: creating them
        # under load took longer than the lead (seen in CI).
        pairs = schedule_posts(seed["blog"], [timezone.now() + dt.timedelta(days=1)] * 8, "Outage")
        stop_at = timezone.now() + dt.timedelta(seconds=8)
        times = [stop_at + dt.timedelta(seconds=1 + i * 0.8) for i in range(8)]
        retime(pairs, times)
        client = redis_client(broker_url)
        wait_until(
            lambda: len(client.keys(ARMED_PATTERN)) >= len(pairs), 20, what="the sweep to arm"
        )
        connection.close()  # this process holds no session into the outage
        wait_until(lambda: timezone.now() >= stop_at, 10, interval=0.1, what="the stop time")
        down_at = time.monotonic()
        down_wall = timezone.now()
        pg.stop()  # returns once the server is down: under load, seconds after down_at
        stopped_at = time.monotonic()
        assert min(times) > down_wall, "the pages fell due before the outage; start sooner"
        assert max(times) < down_wall + dt.timedelta(seconds=PG_OUTAGE)
        time.sleep(PG_OUTAGE)  # the outage itself: a fixed length by design, not a wait
        starting_at = time.monotonic()  # the server may accept connections before -w returns
        pg.start()
        up_at = time.monotonic()
        healthy_at = wait_healthy(poller, 60, "/healthz to recover after PostgreSQL")
        wait_until(lambda: live_count(pairs) == len(pairs), 90, what="every page after restart")
        wait_until(
            lambda: {p for p, _ in pairs} <= set(published_pages(receiver)),
            60,
            what="every webhook after the outage",
        )
        time.sleep(1)  # one more poll after recovery for the timeline
    print(f"\nhealthz timeline: {poller.summary(down_at)}")

    assert_no_broken_answers(poller)
    # Judged only on answers given while the server was surely down: after `pg_ctl -w stop`
    # returned and before `pg_ctl start` was called (CI saw one answered as it came back).
    while_down = [
        sample
        for sample in poller.between(max(down_at + EDGE, stopped_at), starting_at)
        if sample.at + sample.seconds <= starting_at
    ]
    assert while_down, "no /healthz answer while PostgreSQL was down"
    for sample in while_down:
        assert sample.status == 503, sample
        assert sample.check("database")["ok"] is False, sample
    assert max(s.seconds for s in poller.samples) < 5
    print(f"healthz green {healthy_at - up_at:.1f} s after PostgreSQL was back")
    assert healthy_at - up_at < 30
    lateness = assert_published_once(pairs)
    print(f"lateness after the outage: max {max(lateness):.1f} s")
    assert_every_webhook_delivered(receiver, pairs)


@pytest.fixture
def services_run():
    """Skip the heaviest fault tests on embedded defaults, where they repeat the coverage of
    tests/publishing/test_scheduler_services.py and test_worker_smoke.py (same scheduler,
    same /healthz) at a minute each; the PostgreSQL + Redis run (CI's second) runs them."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip(
            "runs in the PostgreSQL + Redis run (REDIS_URL): the embedded run covers "
            "the same scheduler and /healthz in the scheduler service tests"
        )


@pytest.mark.timeout(BEAT_OUTAGE + 240)
def test_beat_stopped(services_run, seed, fault_env, celery_processes, partners, web, broker_url):
    """Beat down for FAULT_BEAT_OUTAGE_SECONDS: healthz says so; nothing lost when it returns."""
    receiver = partners("beat-partner")
    celery_processes("worker")
    beat = celery_processes("beat")
    server = web()
    with HealthPoller(server.url) as poller:
        wait_healthy(poller, 30, "/healthz to be green before the outage")
        # Armed before beat stops: the worker holds their wake-ups, so they stay on time.
        armed = schedule_posts(seed["blog"], [timezone.now() + dt.timedelta(days=1)] * 3, "Armed")
        now = timezone.now()  # their times count from when they all exist (see above)
        retime(armed, [now + dt.timedelta(seconds=4 + i) for i in range(3)])
        client = redis_client(broker_url)
        wait_until(
            lambda: len(client.keys(ARMED_PATTERN)) >= len(armed), 20, what="the sweep to arm"
        )
        stopping_at = time.monotonic()
        beat.stop()
        down_at = time.monotonic()
        down_wall = timezone.now()
        # Scheduled with beat already down: nobody arms them until it returns.
        count = max(5, min(20, int(BEAT_OUTAGE // 10)))
        span = BEAT_OUTAGE - 4
        # Their times count from when they all exist, as the armed pages' do: creating them
        # under load outlasted the first one's lead (CI: reported overdue 11 s after the
        # stop, not by 6 s, because the rows did not exist yet).
        late = schedule_posts(seed["blog"], [down_wall + dt.timedelta(days=1)] * count, "Unarmed")
        made_at, made_wall = time.monotonic(), timezone.now()
        retime(
            late,
            [made_wall + dt.timedelta(seconds=2 + span * i / (count - 1)) for i in range(count)],
        )
        wait_until(lambda: live_count(armed) == len(armed), 30, what="armed pages without beat")
        wait_until(
            lambda: time.monotonic() - made_at >= BEAT_OUTAGE,
            BEAT_OUTAGE + 5,
            interval=0.5,
            what="the end of the outage",
        )
        assert live_count(late) == 0, "something published the unarmed pages without beat"
        up_at, up_wall = time.monotonic(), timezone.now()
        celery_processes("beat")
        healthy_at = wait_healthy(poller, 60, "/healthz to recover after beat returned")
        wait_until(lambda: live_count(late) == len(late), 60, what="every page after beat")
        wait_until(
            lambda: {p for p, _ in armed + late} <= set(published_pages(receiver)),
            60,
            what="every webhook after the outage",
        )
    print(f"\nhealthz timeline: {poller.summary(down_at)}")

    assert_no_broken_answers(poller)
    before = poller.between(down_at - 30, down_at)
    assert before and before[-1].status == 200
    during = poller.between(down_at, up_at)
    beat_down = [s for s in during if s.check("beat").get("ok") is False]
    assert beat_down, "healthz never reported beat down"
    # BEAT_MAX_AGE_SECONDS=4, ticks each 1 s. Its last tick came at most 1 s before the
    # stop began and no later than the stop's end (in CI, under load, 2.2 s before the stop
    # returned): so not reported before 4 - 1 s after the stop began; by 4 + 1 s after its end.
    early = beat_down[0].at + beat_down[0].seconds - stopping_at
    assert early >= 4 - 1 - EDGE, early
    first = beat_down[0].at - down_at
    assert first <= 4 + 1 + EDGE, first
    assert all(s.status == 503 for s in during if s.at - down_at > 4 + 1 + EDGE)
    overdue = [s for s in during if s.check("scheduler").get("overdue")]
    assert overdue, "healthz never reported the scheduler overdue"
    # The server judges somewhere between the request's start and its answer, so the answer
    # time bounds the early side and the start time the late side.
    answered = overdue[0].at + overdue[0].seconds - made_at
    first_overdue = overdue[0].at - made_at
    assert answered >= 2 + 3, answered  # first due +2 s, grace 3 s
    assert first_overdue <= 2 + 3 + EDGE + 1, first_overdue
    on_time = assert_published_once(armed)
    assert max(on_time) < 5, on_time
    lateness = assert_published_once(late)
    since_return = [
        (when - up_wall).total_seconds()
        for when in BlogPostPage.objects.filter(pk__in=[p for p, _ in late]).values_list(
            "first_published_at", flat=True
        )
    ]
    print(
        f"beat down {up_at - down_at:.0f} s; {len(armed)} armed pages on time "
        f"(max {max(on_time):.2f} s late); {len(late)} unarmed pages: lateness "
        f"{min(lateness):.1f}..{max(lateness):.1f} s, all live {max(since_return):.1f} s after "
        f"beat was started again; healthz green {healthy_at - up_at:.1f} s after"
    )
    assert max(since_return) < 30, since_return  # includes beat's own start-up
    assert healthy_at - up_at < 30
    assert_every_webhook_delivered(receiver, armed + late)


def test_misbehaving_partners_during_a_release(
    services_run, seed, fault_env, celery_processes, partners, web, settings
):
    """Redirect loops, a hang and 500s at once: the release is on time, readers served."""
    healthy = partners("healthy")
    looping = partners("redirects", default=(302, {}, b""))
    looping.default = (302, {"Location": looping.url}, b"")  # to itself, forever
    hanging = partners("hangs", default=HANG)
    failing = partners("fails", default=(500, {}, b"internal error"))
    celery_processes("worker")
    celery_processes("beat")
    server = web()
    home = seed["home"].url
    requests.get(f"{server.url}{home}", timeout=10).raise_for_status()  # warm both workers

    pairs = schedule_posts(seed["blog"], [timezone.now() + dt.timedelta(days=1)] * 10, "Release")
    instant = timezone.now() + dt.timedelta(seconds=8)  # counted from when they all exist
    # A second release 4 s later, while the first one's webhooks are still hanging: it must
    # not queue behind them (before the fix each send held a worker slot for 15 s).
    second = instant + dt.timedelta(seconds=4)
    retime(pairs, [instant] * 5 + [second] * 5)
    wait_until(lambda: timezone.now() >= instant, 20, interval=0.1, what="the release instant")
    # A reader stuck behind the hanging partner would wait out its read timeout; the bound
    # is a third of that, not a latency target (those live in `make bench`): the first GET
    # after the release's purge renders cold beside six other test processes.
    stalled = settings.WEBHOOK_TIMEOUT[1] / 3
    reader_seconds = []
    while timezone.now() < second + dt.timedelta(seconds=5):
        started = time.monotonic()
        response = requests.get(f"{server.url}{home}", timeout=settings.WEBHOOK_TIMEOUT[1])
        reader_seconds.append(time.monotonic() - started)
        assert response.status_code == 200
        time.sleep(0.5)  # a reader's pace, not a wait for anything
    wait_until(lambda: live_count(pairs) == len(pairs), 60, what="the whole release")
    lateness = assert_published_once(pairs)
    assert max(lateness) < 5, lateness
    wait_until(
        lambda: {p for p, _ in pairs} <= set(published_pages(healthy)),
        30,
        what="the healthy partner to get every page",
    )
    print(
        f"\nrelease lateness max {max(lateness):.2f} s; home page max {max(reader_seconds):.3f} s "
        f"over {len(reader_seconds)} GETs"
    )
    assert max(reader_seconds) < stalled, reader_seconds
    assert_every_webhook_delivered(healthy, pairs)
    # The bad partners were really tried, and never followed anywhere.
    assert looping.received and failing.received and hanging.received
    assert len(looping.received) <= 2 * len(pairs)
