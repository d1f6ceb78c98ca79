"""Production settings that let the topology come up: health on loopback, proxy headers.

The settings values are read from ``cms.settings.production`` in a subprocess (it reads
the environment at import); the middleware is exercised with production's values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from cms.ops_middleware import ForwardedClientMiddleware
from tests.services import ROOT


def production_values(**env: str) -> dict:
    names = [
        "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT",
        "USE_X_FORWARDED_HOST", "HEALTHCHECK_HOSTS", "BEHIND_PROXY",
    ]  # fmt: skip
    code = (
        "import json, cms.settings.production as p;"
        f"print(json.dumps({{n: getattr(p, n, None) for n in {names!r}}}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**clean, "DJANGO_SECRET_KEY": "x" * 50, **env},
    )  # fmt: skip
    return json.loads(result.stdout)


def test_proxy_headers_are_trusted_only_when_a_proxy_is_declared():
    direct = production_values()
    assert direct["SECURE_PROXY_SSL_HEADER"] is None and not direct["USE_X_FORWARDED_HOST"]
    proxied = production_values(DJANGO_BEHIND_PROXY="1")
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert proxied["USE_X_FORWARDED_HOST"] is True
    assert direct["SECURE_SSL_REDIRECT"] is True
    assert direct["SECURE_REDIRECT_EXEMPT"] == ["^healthz$"]
    assert "127.0.0.1" in direct["HEALTHCHECK_HOSTS"]


@pytest.fixture
def production_like(settings):
    """Production's host and https rules on the test client."""
    settings.ALLOWED_HOSTS = ["cms.example.test"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    settings.SECURE_PROXY_SSL_HEADER = None
    return settings


@pytest.mark.django_db
def test_the_container_healthcheck_gets_health_and_nothing_else(production_like, client):
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code in (200, 503) and "checks" in response.json()
    # Only /healthz: any other path for that host is refused as before.
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/healthz", HTTP_HOST="evil.example").status_code == 400
    # The public host: /healthz over plain HTTP, everything else sent to https.
    assert client.get("/healthz", HTTP_HOST="cms.example.test").status_code in (200, 503)
    redirect = client.get("/", HTTP_HOST="cms.example.test")
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")
    # Without a declared proxy, a client saying "https" is not believed.
    spoofed = client.get("/", HTTP_HOST="cms.example.test", HTTP_X_FORWARDED_PROTO="https")
    assert spoofed.status_code == 301


def _client_address(settings, behind_proxy: bool, forwarded: str) -> str:
    settings.BEHIND_PROXY = behind_proxy
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded
    )  # fmt: skip
    seen = {}

    def view(req):
        seen["address"] = req.META["REMOTE_ADDR"]

    ForwardedClientMiddleware(view)(request)
    return seen["address"]


def test_the_client_address_comes_from_the_proxy_only_behind_one(settings):
    # Behind our proxy: the entry it appended (the last), never one the client wrote.
    assert _client_address(settings, True, "1.2.3.4, 203.0.113.9") == "203.0.113.9"
    assert _client_address(settings, True, "not-an-ip") == "10.0.0.2"
    # Published directly: the header is the client's own claim, ignored.
    assert _client_address(settings, False, "203.0.113.9") == "10.0.0.2"


@pytest.mark.django_db
@pytest.mark.parametrize("behind_proxy", [True, False])
def test_admin_login_lockout_counts_clients_not_the_proxy(seed, client, settings, behind_proxy):
    """django-axes reads the address ForwardedClientMiddleware settled: behind our proxy,
    one client's failures lock that client out, not everyone the proxy carries; published
    directly, a client cannot dodge the lockout by writing X-Forwarded-For itself."""
    from django.contrib.auth import get_user_model

    settings.BEHIND_PROXY = behind_proxy
    settings.AXES_FAILURE_LIMIT = 3
    get_user_model().objects.create_superuser("editor", "e@example.org", "right-password-1")
    proxy = "10.0.0.2"

    def log_in(password: str, client_address: str) -> int:
        return client.post(
            "/admin/login/",
            {"username": "editor", "password": password},
            REMOTE_ADDR=proxy if behind_proxy else client_address,
            HTTP_X_FORWARDED_FOR=f"198.51.100.7, {client_address}",
        ).status_code

    for _ in range(3):
        assert log_in("wrong", "203.0.113.9") in (200, 429)
    assert log_in("right-password-1", "203.0.113.9") == 429
    other_client = log_in("right-password-1", "203.0.113.10")
    if behind_proxy:
        assert other_client == 302, "one client's failures locked out another behind the proxy"
    else:
        # Same socket address, a different claimed address: still locked out.
        client.logout()
        assert (
            client.post(
                "/admin/login/",
                {"username": "editor", "password": "right-password-1"},
                REMOTE_ADDR="203.0.113.9",
                HTTP_X_FORWARDED_FOR="192.0.2.1",
            ).status_code
            == 429
        )
