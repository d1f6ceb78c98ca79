"""The project package: settings, URLs, Celery app and the site's page models."""

from .celery import app as celery_app

__all__ = ("celery_app",)
