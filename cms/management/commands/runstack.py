"""Start web, the Celery workers and two Celery beats (and the embedded Redis) as one command.

cms.supervisor runs them: their output is interleaved with a name prefix, a process that
dies is restarted with a back-off (one line says so), and Ctrl-C stops all of them. Two
beats, as in production: one sends, the other takes over if it dies (cms/beat.py). Two
workers, as in production: ``worker`` (prefork: publishes, sweeps) and ``worker-io`` (a
thread pool sending webhooks, so a partner that hangs never holds up a publish).
"""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from cms.celery import io_worker_options
from cms.supervisor import Supervisor


class Command(BaseCommand):
    help = "Run the site, the Celery workers and two Celery beats together (Ctrl-C stops all)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, **options) -> None:
        python = sys.executable
        settings_module = os.environ.get("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "PYTHONUNBUFFERED": "1"}
        run_dir = Path(settings.RUN_DIR)
        run_dir.mkdir(parents=True, exist_ok=True)  # beats' schedule files live here
        commands: dict[str, list[str]] = {}
        if not settings.REDIS_URL and settings.CELERY_BROKER_URL.startswith("redis+socket://"):
            commands["redis"] = [python, "-m", "cms.embedded_redis"]
        address = f"{options['host']}:{options['port']}"
        commands["web"] = [python, "manage.py", "runserver", address, "--noreload"]
        celery = [python, "-m", "celery", "-A", "cms"]
        commands["worker"] = [*celery, "worker", "-l", "info", "--concurrency", "2"]
        io_options = ["-n", "io@%h", *io_worker_options()]
        commands["worker-io"] = [*celery, "worker", "-l", "info", *io_options]
        for n in (1, 2):
            # Each beat keeps its own schedule file; the lease decides which one sends.
            schedule = str(run_dir / f"celerybeat-schedule-{n}")
            commands[f"beat-{n}"] = [*celery, "beat", "-l", "info", "-s", schedule]
        self.stdout.write(
            f"Site: http://{address}/  admin: http://{address}/admin/  (Ctrl-C stops all)"
        )
        sys.exit(Supervisor(commands, env, out=sys.stdout).run())
