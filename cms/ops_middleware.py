"""Middleware for the production topology: the container healthcheck, and a proxy in front.

``LoopbackHealthMiddleware``: the compose healthcheck asks ``http://127.0.0.1:8000/healthz``
from inside the container. Production settings would refuse that Host (``ALLOWED_HOSTS``
names the public host only: 400) and redirect plain HTTP to https (301). A request for
``/healthz`` whose Host is one of ``HEALTHCHECK_HOSTS`` (loopback by default) is answered
here, before host validation and the redirect, and nothing else is: no page is ever
rendered for a Host the settings do not allow.

``ForwardedClientMiddleware``: with ``BEHIND_PROXY`` (``DJANGO_BEHIND_PROXY=1``) the
client's address is the last entry of ``X-Forwarded-For`` (the one our proxy appended),
so rate limits (page passwords, admin logins) count clients, not the proxy. Without it
the header is ignored: anyone could send it to gunicorn published directly.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class LoopbackHealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz" and request.method in {"GET", "HEAD"}:
            host = request.META.get("HTTP_HOST", "").rsplit(":", 1)[0].strip("[]")
            if host in settings.HEALTHCHECK_HOSTS:
                from cms.views import healthz

                return healthz(request)
        return self.get_response(request)


class ForwardedClientMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.BEHIND_PROXY:
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
            last = forwarded.rsplit(",", 1)[-1].strip()
            try:
                request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(last))
            except ValueError:
                pass  # no (or a garbled) header: keep the proxy's own address
        return self.get_response(request)
