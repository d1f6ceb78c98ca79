"""SSRF: partner URLs may reach only public addresses, checked at save and at connect."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.core.exceptions import ValidationError

from cms.models import Author
from publishing.models import Delivery, Partner
from publishing.webhooks.security import UnsafeDestination, check_url
from tests.factories import make_post

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10:8080/hook",
    "http://localhost/hook",
    "http://2130706433/hook",  # 127.0.0.1 as a decimal integer
    "http://0.0.0.0/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://100.64.0.1/hook",  # CGNAT
    "http://224.0.0.1/hook",  # multicast
    "http://240.0.0.1/hook",  # reserved
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[::ffff:8.8.8.8]/hook",  # mapped, even when public: refuse the whole form
    "http://[fc00::1]/hook",  # unique local
    "http://[fe80::1]/hook",  # link-local
    "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
    "ftp://93.184.215.14/hook",
    "file:///etc/passwd",
    "http://user:pw@93.184.215.14/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_unsafe_urls_are_refused(url, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(UnsafeDestination):
        check_url(url)


@pytest.mark.parametrize("url", ["https://93.184.215.14/hook", "http://[2606:4700::1111]/x"])
def test_public_addresses_are_accepted(url, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert check_url(url)


def test_allowed_networks_let_the_operator_open_a_range(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert [str(a) for a in check_url("http://127.0.0.1:9/x")] == ["127.0.0.1"]
    with pytest.raises(UnsafeDestination):
        check_url("http://10.0.0.1/x")  # only what was listed
    settings.WEBHOOK_ALLOWED_NETWORKS = "10.0.0.0/8, 127.0.0.0/8"  # env form
    assert check_url("http://10.0.0.1/x")


@pytest.mark.django_db
def test_saving_a_partner_with_a_private_url_is_a_form_error_a_person_understands(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    partner = Partner(name="metadata", endpoint_url="http://169.254.169.254/latest")
    with pytest.raises(ValidationError) as error:
        partner.full_clean()
    message = error.value.message_dict["endpoint_url"][0]
    assert "169.254.169.254 is not a public address" in message


@pytest.fixture
def published_to(seed, django_capture_on_commit_callbacks):
    """Publish a post; returns the delivery for the only partner."""

    def publish() -> Delivery:
        pan = Author.objects.get(slug="dr-pan")
        with django_capture_on_commit_callbacks(execute=True):
            make_post(seed["blog"], "Post", dt.date(2024, 1, 1), pan)
        return Delivery.objects.get()

    return publish


@pytest.mark.django_db
def test_loopback_is_refused_at_send_time_without_the_setting(settings, receivers, published_to):
    receiver = receivers()
    # Saved while allowed (or written straight to the database): the send re-checks.
    Partner.objects.create(name="sneaky", endpoint_url=receiver.url)
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    delivery = published_to()
    assert receiver.received == []
    attempt = delivery.attempt_log.get()
    assert attempt.error.startswith("refused:") and "127.0.0.1" in attempt.error
    assert delivery.state == Delivery.State.FAILED


@pytest.mark.django_db
def test_dns_rebinding_is_caught_at_connect_time(settings, receivers, published_to, monkeypatch):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.WEBHOOK_TIMEOUT = (2.0, 2.0)
    receiver = receivers()
    real_getaddrinfo = socket.getaddrinfo
    answers = {"public": "93.184.215.14"}

    def rebinding(host, port, *args, **kwargs):
        if host == "partner.example":
            return real_getaddrinfo(answers["public"], port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    partner = Partner(name="rebinder", endpoint_url=f"http://partner.example:{receiver.port}/x")
    partner.full_clean()  # public at save time
    partner.save()

    answers["public"] = "127.0.0.1"  # ...and loopback by the time we connect
    delivery = published_to()
    assert receiver.received == []
    assert delivery.attempt_log.get().error.startswith("refused:")


@pytest.fixture
def tls_receiver(tmp_path):
    """An HTTPS receiver on 127.0.0.1 whose certificate names only ``localhost``."""
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hits.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert, hits
    server.shutdown()
    server.server_close()


def test_https_connects_to_the_checked_address_but_verifies_the_host_name(
    tls_receiver, settings, monkeypatch
):
    import uuid

    from publishing.webhooks import delivery

    port, cert, hits = tls_receiver
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_TIMEOUT = (2.0, 2.0)
    make_session = delivery.make_session

    def trusting_test_ca():
        session = make_session()
        session.verify = str(cert)  # the test CA instead of the public ones
        return session

    monkeypatch.setattr(delivery, "make_session", trusting_test_ca)

    def send(url: str) -> delivery.Result:
        outgoing = delivery.Outgoing(1, uuid.uuid4(), url, "{}", {"webhook-id": "msg_1"})
        return delivery.post(outgoing)

    ok = send(f"https://localhost:{port}/hooks")
    assert ok.status_code == 200 and hits == [f"localhost:{port}"]
    # Same socket address, but the certificate does not name 127.0.0.1: refused.
    mismatch = send(f"https://127.0.0.1:{port}/hooks")
    assert mismatch.status_code is None and "certificate" in mismatch.error.lower()
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    refused = send(f"https://localhost:{port}/hooks")
    assert refused.error.startswith("refused:") and len(hits) == 1
