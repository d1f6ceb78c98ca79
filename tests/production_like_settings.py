"""The test stack with production's security headers, for a browser on plain loopback http.

Production's CSP, frame and HSTS settings are copied over as they are; only the three
that need TLS in front (the https redirect and the secure-only cookies) stay off, since
the test server answers on http://127.0.0.1 with no proxy in front of it.
"""

import os

from django.conf import global_settings

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-production-like-key")

from cms.settings import production  # noqa: E402
from cms.settings.test import *  # noqa: E402, F403

_NEEDS_TLS = {"SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"}
_HEADERS = ("SECURE_", "CSRF_COOKIE_", "SESSION_COOKIE_", "X_FRAME_", "CONTENT_SECURITY_")
globals().update(
    {
        name: getattr(production, name)
        for name in dir(production)
        if name.startswith(_HEADERS) and name not in _NEEDS_TLS
    }
)
DEBUG = production.DEBUG
# Production's hashers (the test stack's MD5 is only for speed).
PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
# Debug is off, so static files come from the finders rather than a collectstatic run.
WHITENOISE_USE_FINDERS = True
