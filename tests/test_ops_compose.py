"""The compose topology, without Docker: the same commands on loopback, then a smoke.

Reads docker-compose.yml and runs its migrate, web (gunicorn, production settings),
both workers (prefork, and the I/O worker that sends webhooks) and both beats with their
own command lines, against this run's PostgreSQL database and Redis. Only what Docker
would provide differs: service hostnames become loopback URLs, the web port a free one,
each beat's /tmp a directory of its own. Then:
every service's own healthcheck command passes, a scheduled page goes live (once), its
webhook reaches a local receiver over real HTTP, and an uploaded image is served.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection

from publishing.models import Partner
from tests.publishing.publish import assert_published_once, schedule_posts
from tests.publishing.receivers import Receiver, free_port
from tests.services import ROOT, Varnish, skip_or_fail, wait_until

pytestmark = [pytest.mark.services]

PUBLIC_HOST = "cms.example.test"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
WORKERS = ("worker", "worker-io")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR:-default}`` and ``$$`` in a command line."""
    text = re.sub(
        r"\$\{(\w+)(?::-([^}]*))?\}",
        lambda m: env.get(m.group(1)) or (m.group(2) or ""),
        text,
    )
    return text.replace("$$", "$")


def _fix(text: str, env: dict[str, str], replace: dict[str, str]) -> str:
    text = interpolate(text, env)
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def command(service: str, env: dict[str, str], replace: dict[str, str]) -> list[str]:
    """The service's command line; the image's python/gunicorn/celery are this interpreter's."""
    argv = [_fix(arg, env, replace) for arg in SERVICES[service]["command"]]
    if argv[0] == "python":
        return [sys.executable, *argv[1:]]
    return [sys.executable, "-m", *argv]


def healthcheck(service: str, env: dict[str, str], replace: dict[str, str]) -> list[str]:
    """The service's healthcheck ``test``, as Docker would run it in the container."""
    kind, *rest = SERVICES[service]["healthcheck"]["test"]
    if kind == "CMD-SHELL":
        line = _fix(rest[0], env, replace)
        line = re.sub(r"^celery ", f"{shlex.quote(sys.executable)} -m celery ", line)
        return ["sh", "-c", line]
    argv = [_fix(arg, env, replace) for arg in rest]
    return [sys.executable, *argv[1:]] if argv[0] == "python" else argv


@pytest.fixture
def compose_env(live_db_url, broker_url, real_broker, tmp_path, settings) -> dict[str, str]:
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        skip_or_fail("the compose smoke needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "REDIS_", "PYTEST_"))
    }
    for name, value in SERVICES["web"]["environment"].items():
        env[name] = interpolate(str(value), {})
    env.update(
        # What the .env file beside docker-compose.yml would hold.
        DJANGO_SECRET_KEY="compose-smoke-secret-key-not-for-production",
        DJANGO_ALLOWED_HOSTS=PUBLIC_HOST,
        # A proxy is in front: this test, sending X-Forwarded-Proto as a TLS proxy would.
        DJANGO_BEHIND_PROXY="1",
        # Docker's service names, as loopback URLs of this run.
        DATABASE_URL=live_db_url,
        REDIS_URL=os.environ["REDIS_URL"],
        CELERY_BROKER_URL=broker_url,
        REDIS_CACHE_URL=django_settings.CACHES["default"]["LOCATION"],
        MEDIA_ROOT=str(media),
        STATIC_ROOT=str(tmp_path / "static"),
        WAGTAILADMIN_BASE_URL=f"https://{PUBLIC_HOST}",
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        WEB_CONCURRENCY="2",
        CELERY_CONCURRENCY="2",
        PYTHONUNBUFFERED="1",
        HOSTNAME=socket.gethostname(),
    )
    assert env["DJANGO_SETTINGS_MODULE"] == "cms.settings.production"
    return env


class Stack:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str]) -> None:
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115 - the child owns it
        self.processes[name] = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()

    def output(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited:\n{self.output(name)[-3000:]}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def passes(argv: list[str], env: dict[str, str]) -> bool:
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, timeout=60)
    return result.returncode == 0


def test_the_io_worker_service_runs_the_options_make_run_and_the_suite_use():
    """docker-compose.yml spells out cms.celery.io_worker_options; they must not drift."""
    from cms.celery import io_worker_options

    argv = command("worker-io", dict(os.environ), {})  # as compose reads the environment
    options = io_worker_options()
    queue, pool = options[options.index("-Q") + 1], options[options.index("--pool") + 1]
    assert argv[argv.index("-Q") + 1] == queue == django_settings.WEBHOOK_QUEUE
    assert argv[argv.index("--pool") + 1] == pool == "threads"
    assert argv[argv.index("--concurrency") + 1] == str(django_settings.WEBHOOK_WORKER_CONCURRENCY)
    assert "-Q" not in command("worker", {}, {}), "the prefork worker must not take sends"


@pytest.mark.timeout(300)
def test_the_compose_services_come_up_healthy_and_publish(seed, compose_env, tmp_path):
    port = free_port()
    web_replace = {"0.0.0.0:8000": f"127.0.0.1:{port}", "127.0.0.1:8000": f"127.0.0.1:{port}"}
    beat_dirs = {name: tmp_path / name for name in ("beat", "beat-2")}
    in_container_tmp = "/tmp/"  # noqa: S108 - the path inside the compose container
    # The varnish service in front of web, which the pipeline purges before it notifies
    # (compose names it http://varnish:80; here it is on loopback like the others).
    (tmp_path / "varnish").mkdir()
    varnish = Varnish(port, tmp_path / "varnish").start()
    compose_env["FRONTEND_CACHE_PURGE_URLS"] = varnish.url
    stack = Stack(compose_env, tmp_path)
    receiver = Receiver().start()
    try:
        # The image's build step (Dockerfile), then the migrate service.
        (build_step,) = [
            line.removeprefix("RUN ").split()
            for line in (ROOT / "Dockerfile").read_text().splitlines()
            if "collectstatic" in line
        ]
        build_env = dict(compose_env, **dict(a.split("=", 1) for a in build_step if "=" in a))
        argv = [a for a in build_step if "=" not in a]
        collect = subprocess.run(
            [sys.executable, *argv[1:]], cwd=ROOT, env=build_env,
            capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert collect.returncode == 0, collect.stderr[-2000:]
        migrate = subprocess.run(
            command("migrate", compose_env, {}), cwd=ROOT, env=compose_env,
            capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
        stack.start("web", command("web", compose_env, web_replace))
        for name in WORKERS:
            stack.start(name, command(name, compose_env, {}))
        for name, directory in beat_dirs.items():
            directory.mkdir()
            stack.start(name, command(name, compose_env, {in_container_tmp: f"{directory}/"}))

        checks = {
            "web": healthcheck("web", compose_env, web_replace),
            **{name: healthcheck(name, compose_env, {}) for name in WORKERS},
            **{
                name: healthcheck(name, compose_env, {in_container_tmp: f"{directory}/"})
                for name, directory in beat_dirs.items()
            },
        }

        def all_healthy() -> bool:
            stack.check_alive()
            return all(passes(argv, compose_env) for argv in checks.values())

        wait_until(all_healthy, 120, interval=1, what="every compose healthcheck to pass")
        base = f"http://127.0.0.1:{port}"
        # The public host over plain HTTP is sent to https; through the proxy it is served.
        plain = requests.get(
            f"{base}/", headers={"Host": PUBLIC_HOST}, allow_redirects=False, timeout=10
        )
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        proxied = {"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https"}
        assert requests.get(f"{base}/", headers=proxied, timeout=10).status_code == 200
        # Other hosts get nothing but the loopback health answer.
        assert (
            requests.get(f"{base}/", headers={"Host": "127.0.0.1"}, timeout=10).status_code == 400
        )

        # A partner, a scheduled page: it goes live once and the partner hears of it.
        partner = Partner(name="compose-partner", endpoint_url=receiver.url)
        partner.full_clean()
        partner.save()
        receiver.secret = partner.secret
        pairs = schedule_posts(
            seed["blog"], [timezone.now() + dt.timedelta(seconds=8)], "Compose smoke"
        )
        post_id = pairs[0][0]
        wait_until(
            lambda: any(
                r.payload and r.payload["type"] == "page.published"
                and r.payload["data"]["id"] == post_id
                for r in receiver.received
            ),
            90,
            what="the webhook for the scheduled page",
        )  # fmt: skip
        assert_published_once(pairs)
        assert all(item.verify_error == "" for item in receiver.received)

        # An uploaded image, served by the app from the media volume.
        image = get_image_model().objects.create(
            title="Compose smoke image",
            file=get_test_image_file("compose.png"),
            # A transactional test before this one may have flushed the migrations' root.
            collection=Collection.get_first_root_node() or Collection.add_root(name="Root"),
        )
        response = requests.get(f"{base}{image.file.url}", headers=proxied, timeout=10)
        assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
        assert response.content == Path(django_settings.MEDIA_ROOT, image.file.name).read_bytes()

        # Exactly one beat sends; both keep their healthchecks green.
        roles = [
            (d / "celerybeat-schedule.lease").read_text().split()[0] for d in beat_dirs.values()
        ]
        assert sorted(roles) == ["active", "standby"], roles
        stack.check_alive()
    finally:
        stack.stop()
        receiver.stop()
        varnish.stop()
