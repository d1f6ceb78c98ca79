"""A small process supervisor for `make run`: restart what dies, stop everything on Ctrl-C.

Why not honcho's manager (what runstack used before): it stops the whole stack when one
process exits, so a crashed worker took web, beat and Redis down with it. Here each
process runs in a process group of its own; when one exits unasked, its group is cleared
(a Celery worker's pool children must not outlive it), one line says so, and it is
started again after a back-off that doubles up to ``MAX_BACKOFF`` (reset once it has
stayed up ``STABLE_SECONDS``). SIGINT or SIGTERM stops every group: SIGTERM first, then
SIGKILL for whatever has not exited after ``STOP_TIMEOUT`` seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_SECONDS = 30.0
STOP_TIMEOUT = 10.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = FIRST_BACKOFF
    restart_at: float | None = None
    restarts: int = 0
    reader: threading.Thread | None = field(default=None, repr=False)


def _describe(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


class Supervisor:
    """Run named commands, prefix their output, restart them when they die."""

    def __init__(
        self, commands: Mapping[str, list[str]], env: Mapping[str, str], out: TextIO = sys.stdout
    ) -> None:
        self.children = [Child(name, list(argv)) for name, argv in commands.items()]
        self.env = dict(env)
        self.out = out
        self.width = max(len(name) for name in commands) if commands else 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name.ljust(self.width)} | {line}\n")
            self.out.flush()

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(  # noqa: S603 - our own fixed commands
            child.argv,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own: pool children go with it
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        self.say("supervisor", f"started {child.name} (pid {child.process.pid})")
        child.reader = threading.Thread(target=self._pump, args=(child, child.process), daemon=True)
        child.reader.start()

    def _pump(self, child: Child, process: subprocess.Popen) -> None:
        for raw in iter(process.stdout.readline, b""):
            self.say(child.name, raw.decode(errors="replace").rstrip("\n"))
        process.stdout.close()

    @staticmethod
    def _signal_group(process: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _check(self, child: Child, now: float) -> None:
        process = child.process
        if process is not None and process.poll() is not None:
            # Whatever it left behind in its group (pool processes) goes too.
            self._signal_group(process, signal.SIGKILL)
            if now - child.started_at >= STABLE_SECONDS:
                child.backoff = FIRST_BACKOFF
            child.restarts += 1
            child.restart_at = now + child.backoff
            self.say(
                "supervisor",
                f"{child.name} (pid {process.pid}) exited with {_describe(process.returncode)};"
                f" restarting in {child.backoff:.0f} s (restart {child.restarts})",
            )
            child.backoff = min(child.backoff * 2, MAX_BACKOFF)
            child.process = None
        if child.process is None and child.restart_at is not None and now >= child.restart_at:
            self._start(child)

    def stop(self, *_args) -> None:
        """Signal handler: ask the loop to stop everything."""
        self._stopping.set()

    def _stop_all(self) -> None:
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        self.say("supervisor", f"stopping {len(running)} processes")
        for process in running:
            self._signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("supervisor", f"pid {process.pid} did not stop; killing it")
        for child in self.children:
            if child.process is not None:
                # Kill the group even when its leader exited: no child may be orphaned.
                self._signal_group(child.process, signal.SIGKILL)
                child.process.wait()
            if child.reader is not None:
                child.reader.join(2)

    def run(self) -> int:
        """Start everything; supervise until SIGINT/SIGTERM; stop everything. Returns 0."""
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                self._start(child)
            while not self._stopping.wait(0.2):
                now = time.monotonic()
                for child in self.children:
                    self._check(child, now)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0
