"""Real HTTP receivers on loopback that behave like partner endpoints.

Each records what it received and verifies the signature with the ``standardwebhooks``
library, exactly as a partner would.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

HANG = "hang"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    payload: dict | None = None
    verify_error: str = ""

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A ThreadingHTTPServer on 127.0.0.1 with a queue of canned answers."""

    port: int = 0
    secret: str | None = None
    default: tuple = (200, {}, b"thanks")
    received: list[Received] = field(default_factory=list)
    #: Called with each request as it arrives, before it is answered (a partner acting
    #: on the notification at once).
    on_receive: Callable[[Received], None] | None = None

    def __post_init__(self) -> None:
        self.answers: deque = deque()
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet test output
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                item = receiver._record(self.path, dict(self.headers.items()), body)
                if receiver.on_receive is not None:
                    receiver.on_receive(item)
                with receiver.lock:
                    answer = receiver.answers.popleft() if receiver.answers else receiver.default
                if answer == HANG:
                    receiver.release.wait(60)
                    return
                status, headers, content = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def answer(self, *answers) -> None:
        """Queue answers for the next requests: ``(status, headers, body)`` or ``HANG``."""
        with self.lock:
            self.answers.extend(answers)

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> Received:
        item = Received(path=path, headers={k.lower(): v for k, v in headers.items()}, body=body)
        if self.secret:
            try:
                item.payload = Webhook(self.secret).verify(body, item.headers)
            except WebhookVerificationError as exc:
                item.verify_error = str(exc)
        with self.lock:
            self.received.append(item)
        return item


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
