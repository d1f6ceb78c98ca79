"""`make run` supervises: kill -9 the worker's main process, it comes back; SIGINT stops all.

Runs ``manage.py runstack`` itself (what ``make run`` runs after set-up), with the embedded
Redis under a run directory of its own and the test database, then looks for leftovers
by an environment marker only this stack's processes carry.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.publishing.receivers import free_port
from tests.services import ROOT, wait_until

pytestmark = [pytest.mark.services]


def _pids_with_marker(marker: str) -> list[int]:
    """Processes whose environment carries ``marker`` (this stack's, and nobody else's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def stack_env(live_db_url, tmp_path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "CELERY_BROKER_URL", "REDIS_CACHE_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="cms.settings.test",
        DATABASE_URL=live_db_url,
        RUN_DIR=str(tmp_path / "run"),
        CELERY_TASK_ALWAYS_EAGER="0",
        PYTHONUNBUFFERED="1",
        RUNSTACK_TEST_MARKER=uuid.uuid4().hex,
    )
    return env


def test_runstack_restarts_a_killed_worker_and_sigint_stops_everything(stack_env, tmp_path):
    port = free_port()
    log_path = tmp_path / "runstack.log"
    marker = f"RUNSTACK_TEST_MARKER={stack_env['RUNSTACK_TEST_MARKER']}"
    with open(log_path, "w") as log:
        stack = subprocess.Popen(
            [sys.executable, "manage.py", "runstack", "--port", str(port)],
            cwd=ROOT,
            env=stack_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    output = log_path.read_text
    try:

        def started(name: str) -> list[int]:
            return [int(p) for p in re.findall(rf"started {name} \(pid (\d+)\)", output())]

        def worker_ready_count() -> int:
            return len(re.findall(r"^\S+ worker +\| .*ready\.$", output(), re.M))

        wait_until(lambda: worker_ready_count() >= 1, 90, 0.2, what="the worker to be ready")
        wait_until(
            lambda: (
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code
                in {200, 503}
            ),
            60,
            0.5,
            what="web to answer",
        )
        assert len(started("beat-1")) == len(started("beat-2")) == 1
        (worker_pid,) = started("worker")
        os.kill(worker_pid, signal.SIGKILL)

        wait_until(
            lambda: (
                f"worker (pid {worker_pid}) exited with signal SIGKILL; restarting in 1 s"
                in output()
            ),
            20,
            what="the supervisor to say the worker died",
        )
        wait_until(lambda: len(started("worker")) == 2, 20, what="the worker to be restarted")
        wait_until(lambda: worker_ready_count() >= 2, 90, 0.2, what="the new worker to be ready")
        assert stack.poll() is None, "the stack stopped when the worker died"
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code in {
            200,
            503,
        }
        # Nothing else was restarted.
        assert len(started("web")) == len(started("beat-1")) == 1

        stack.send_signal(signal.SIGINT)  # Ctrl-C
        assert stack.wait(40) == 0
        wait_until(
            lambda: not _pids_with_marker(marker), 10, what="every process of the stack to exit"
        )
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)
            stack.wait(10)
        for pid in _pids_with_marker(marker):
            os.kill(pid, signal.SIGKILL)
