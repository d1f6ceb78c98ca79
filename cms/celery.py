"""The one Celery app of the project (cookiecutter-django's layout).

Configuration comes from Django settings under the ``CELERY_`` namespace, so the
same settings module drives web, worker and beat.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

app = Celery("cms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# One readable line per expected network failure of a task (cms/task_logs.py).
from cms import task_logs  # noqa: E402, F401
