"""Start web, Celery worker and Celery beat (and the embedded Redis) as one command.

Honcho supervises them: their output is interleaved with a name prefix, and Ctrl-C
stops all of them together.
"""

import os
import shlex
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from honcho.manager import Manager


class Command(BaseCommand):
    help = "Run the site, a Celery worker and Celery beat together (Ctrl-C stops all)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, **options) -> None:
        python = shlex.quote(sys.executable)
        settings_module = os.environ.get("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "PYTHONUNBUFFERED": "1"}
        Path(settings.RUN_DIR).mkdir(parents=True, exist_ok=True)  # beat's schedule file lives here
        processes = {}
        if not settings.REDIS_URL and settings.CELERY_BROKER_URL.startswith("redis+socket://"):
            processes["redis"] = f"{python} -m cms.embedded_redis"
        processes["web"] = (
            f"{python} manage.py runserver {options['host']}:{options['port']} --noreload"
        )
        processes["worker"] = f"{python} -m celery -A cms worker -l info --concurrency 2"
        processes["beat"] = f"{python} -m celery -A cms beat -l info"
        manager = Manager()
        for name, command in processes.items():
            manager.add_process(name, command, env=env)
        self.stdout.write(
            f"Site: http://{options['host']}:{options['port']}/  "
            f"admin: http://{options['host']}:{options['port']}/admin/  (Ctrl-C stops all)"
        )
        manager.loop()
        sys.exit(manager.returncode)
