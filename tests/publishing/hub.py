"""A real WebSub hub for the tests: an HTTP server on 127.0.0.1 that records publish pings."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class LocalHub:
    """Accepts ``hub.mode=publish`` POSTs; can answer 503 to the first ``fail_first`` of them."""

    def __init__(self, fail_first: int = 0) -> None:
        self.pings: list[dict] = []
        self.refused = 0
        self.fail_first = fail_first
        self.lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                with hub.lock:
                    if hub.refused < hub.fail_first:
                        hub.refused += 1
                        status = 503
                    else:
                        hub.pings.append(
                            {
                                "mode": form.get("hub.mode", [""])[0],
                                "url": form.get("hub.url", [""])[0],
                                "content_type": self.headers.get("Content-Type", ""),
                                "at": time.time(),
                            }
                        )
                        status = 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hub"

    def topics(self) -> set[str]:
        with self.lock:
            return {ping["url"] for ping in self.pings}

    def __enter__(self) -> LocalHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def closed_port_url() -> str:
    """A loopback URL nothing listens on: a hub that is down."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hub"
