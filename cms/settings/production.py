"""Production settings, as docker-compose.yml runs them. Everything secret comes from env."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, SECRET_KEY, env, env_bool

if not SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY in the environment.")

DEBUG = False
# X-Forwarded-Proto is trusted only with DJANGO_BEHIND_PROXY=1 (base settings): gunicorn
# published directly would otherwise believe any client that says it came over https.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Health is answered over plain HTTP too (monitors, the container healthcheck).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# One JSON object per line, with request and task ids, for the log shipper.
LOGGING["handlers"]["console"]["formatter"] = env("LOG_FORMAT", "json")
