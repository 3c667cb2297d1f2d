"""A real HTTP webhook receiver on 127.0.0.1 (a free port per test) standing in for Slack.

It records every request (path, headers, JSON body) and answers from a script: each test may queue
answers (`answer(500)`, `answer(302, location=...)`), after which it answers 200 "ok" as Slack does.
The URL it gives carries a token in its path, as a Slack incoming webhook's does.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WEBHOOK_TOKEN = "T0AAA0AAA/B0BBB0BBB/Zz9SeCrEtW3bh00kT0ken"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """The receiver's state: requests seen and answers still queued (guarded by `lock`)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/{WEBHOOK_TOKEN}"

    def answer(self, status: int, body: bytes = b"", **headers: str) -> None:
        """Queue one answer (headers by keyword: retry_after -> Retry-After)."""
        named = {name.replace("_", "-").title(): value for name, value in headers.items()}
        with self.lock:
            self.answers.append((status, named, body))

    def posts(self) -> list[Received]:
        with self.lock:
            return list(self.received)


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                status, headers, answer = receiver.answers.pop(0) if receiver.answers else (200, {}, b"ok")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the path is the token
            return

    return Handler


@contextmanager
def running_receiver() -> Iterator[WebhookReceiver]:
    """A receiver serving on a free port until the block ends."""
    receiver = WebhookReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
