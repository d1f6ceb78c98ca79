"""Security defaults: CSP without inline script, admin login lockout, request ids in logs."""

import json
import logging

import pytest
from django.contrib.auth import get_user_model


@pytest.mark.django_db
def test_reader_pages_send_a_strict_csp_and_security_headers(seed, client):
    response = client.get(seed["post"].url)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    # The only script on the page is JSON-LD data, which CSP does not execute.
    content = response.content.decode()
    assert content.count("<script") == content.count('type="application/ld+json"')


@pytest.mark.django_db
def test_admin_login_locks_out_after_repeated_failures(seed, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    get_user_model().objects.create_superuser("editor", "e@example.org", "right-password-1")
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "editor", "password": "wrong"})
        assert response.status_code in (200, 429)
    # Even the right password is refused while locked out.
    locked = client.post("/admin/login/", {"username": "editor", "password": "right-password-1"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_works_with_the_right_password(seed, client):
    get_user_model().objects.create_superuser("editor", "e@example.org", "right-password-1")
    response = client.post("/admin/login/", {"username": "editor", "password": "right-password-1"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_request_id_is_returned_and_logged(seed, client, settings):
    from cms.request_id import RequestIDFilter

    # Published directly, the header is the client's claim: a fresh id instead.
    settings.BEHIND_PROXY = False
    claimed = client.get("/", HTTP_X_REQUEST_ID="abcdef0123456789")["X-Request-ID"]
    assert claimed != "abcdef0123456789" and len(claimed) == 32
    # Behind our proxy, its id is kept when it looks sane.
    settings.BEHIND_PROXY = True
    response = client.get("/", HTTP_X_REQUEST_ID="abcdef0123456789")
    assert response["X-Request-ID"] == "abcdef0123456789"
    generated = client.get("/", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32

    from pythonjsonlogger.json import JsonFormatter

    fmt = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(fmt["format"], rename_fields=fmt["rename_fields"])
    record = logging.LogRecord("cms.test", logging.INFO, __file__, 1, "hello %s", ("x",), None)
    RequestIDFilter().filter(record)
    line = json.loads(formatter.format(record))
    assert line["message"] == "hello x" and line["level"] == "INFO"
    assert line["request_id"] == "-" and line["task_id"] == "-"
