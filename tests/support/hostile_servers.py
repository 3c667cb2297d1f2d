"""Hostile HTTP servers on 127.0.0.1 for the security tests, and the clients pointed at them.

One `HostileServer` plays the pod, the identity domain and the Mailchimp API at once: requests to
`TOKEN_PATH` get the token behaviour (an issued token by default), every other path the resource
behaviour. Behaviours: `echo` (the request's Authorization header, its decoded credentials and its
body copied into a JSON or HTML error page), `redirect`, `trickle_body` / `trickle_headers` (a byte
per interval), `flood` (a body far over any cap) and `ok` (a valid empty answer for both APIs).
Every loop is bounded, and a stopped server ends its trickles and floods.
"""

import base64
import http.server
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from oracle_mailchimp_dagster.fusion import (
    FusionBasicAuth,
    FusionClient,
    FusionClientOptions,
    FusionConnection,
    FusionOAuth,
    TokenCache,
)
from oracle_mailchimp_dagster.http import RetryPolicy, Timeouts
from oracle_mailchimp_dagster.mailchimp import MailchimpClient, MailchimpClientOptions, MailchimpConnection

TOKEN_PATH = "/oauth2/v1/token"
RESOURCE_PATH = "/crmRestApi/resources/11.13.18.05/accounts"
SCOPE = "urn:opc:resource:fa:instanceid=1234567urn:opc:resource:consumer::all"
FUSION_USER = "INTEGRATION.USER"
FUSION_CLIENT_ID = "acme-client"
MAILCHIMP_USER = "oracle-mailchimp"  # the user name the Mailchimp client sends with its API key
_CHUNK = 64 * 1024
SHUTDOWN_POLL_S = 0.05

Kind = Literal["echo", "redirect", "trickle_body", "trickle_headers", "flood", "ok"]
ClientKind = Literal["fusion-basic", "fusion-oauth", "mailchimp-key", "mailchimp-oauth"]
CLIENT_KINDS: tuple[ClientKind, ...] = ("fusion-basic", "fusion-oauth", "mailchimp-key", "mailchimp-oauth")


@dataclass(frozen=True)
class Behaviour:
    """What the server does with a request; fields not used by a kind are ignored."""

    kind: Kind = "ok"
    status: int = 200
    html: bool = False  # echo as an HTML page instead of JSON
    location: str = ""  # redirect target
    interval_s: float = 1.0  # trickle pace
    trickle_bytes: int = 30  # a trickle ends after this many bytes (30 s at the default pace)
    declare_length: bool = True  # flood: announce the size in Content-Length, or stream until closed
    flood_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    authorization: str
    body: bytes


@dataclass
class HostileServer:
    """A ThreadingHTTPServer on 127.0.0.1 (an ephemeral port) with one behaviour per route."""

    resource: Behaviour = field(default_factory=Behaviour)
    token: Behaviour = field(default_factory=Behaviour)
    issued_token: str = field(default_factory=lambda: "tok-" + secrets.token_urlsafe(24))

    def __post_init__(self) -> None:
        self.seen: list[Seen] = []
        self.bytes_sent = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        # shutdown() waits for serve_forever's next poll: SHUTDOWN_POLL_S, not the default 0.5 s.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(SHUTDOWN_POLL_S,), daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)


def echo_text(authorization: str, body: bytes) -> str:
    """What a careless server writes back: the header, the credentials it decodes, the body."""
    scheme, _, value = authorization.partition(" ")
    decoded = value
    if scheme.lower() == "basic":
        decoded = base64.b64decode(value + "=" * (-len(value) % 4)).decode("utf-8", errors="replace")
    return (
        f"you sent Authorization: {authorization}; credentials {decoded}; "
        f"body {body.decode('utf-8', errors='replace')}"
    )


def _handler_for(server: HostileServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            authorization = self.headers.get("Authorization", "")
            server.record(Seen(self.command, self.path, authorization, body))
            is_token = self.path.split("?")[0] == TOKEN_PATH
            behaviour = server.token if is_token else server.resource
            try:
                _BEHAVIOURS[behaviour.kind](Exchange(self, server, behaviour, authorization, body, is_token))
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def send_bytes(self, status: int, content_type: str, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@dataclass(frozen=True)
class Exchange:
    """One request being answered: the handler to write with, and what the request carried."""

    handler: Any
    server: HostileServer
    behaviour: Behaviour
    authorization: str
    body: bytes
    is_token: bool


Respond = Callable[[Exchange], None]


def _ok(x: Exchange) -> None:
    answer: dict[str, Any]
    if x.is_token:
        answer = {"access_token": x.server.issued_token, "token_type": "Bearer", "expires_in": 3600}
    else:
        # Good enough for both APIs: an empty ADF collection and a Mailchimp ping answer.
        answer = {"items": [], "count": 0, "hasMore": False, "health_status": "Everything's Chimpy!"}
    x.handler.send_bytes(200, "application/json", json.dumps(answer).encode())


def _echo(x: Exchange) -> None:
    text, status = echo_text(x.authorization, x.body), x.behaviour.status
    if x.behaviour.html:
        page = f"<h1>{status} Error</h1><pre>{text}</pre>"
        x.handler.send_bytes(status, "text/html; charset=utf-8", page.encode())
        return
    # Every field either client reads an error from: ADF, problem+json and OAuth shapes at once.
    document = {
        "type": "about:blank",
        "title": f"Echo {text}",
        "status": status,
        "detail": text,
        "instance": text,
        "errors": [{"field": "Authorization", "message": text}],
        "o:errorDetails": [{"detail": text, "o:errorCode": "ECHO", "o:errorPath": text}],
        "error": "invalid_client",
        "error_description": text,
    }
    x.handler.send_bytes(status, "application/json", json.dumps(document).encode())


def _redirect(x: Exchange) -> None:
    x.handler.send_response(x.behaviour.status)
    x.handler.send_header("Location", x.behaviour.location)
    x.handler.send_header("Content-Length", "0")
    x.handler.end_headers()


def _trickle_body(x: Exchange) -> None:
    x.handler.send_response(200)
    x.handler.send_header("Content-Type", "application/json")
    x.handler.send_header("Content-Length", str(x.behaviour.trickle_bytes))
    x.handler.end_headers()
    x.handler.wfile.flush()
    _trickle(x)


def _trickle_headers(x: Exchange) -> None:
    x.handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    x.handler.wfile.flush()
    _trickle(x)
    x.handler.close_connection = True


def _trickle(x: Exchange) -> None:
    for _ in range(x.behaviour.trickle_bytes):
        if x.server.stopping.wait(x.behaviour.interval_s):
            return
        x.handler.wfile.write(b" ")
        x.handler.wfile.flush()
        x.server.sent(1)


def _flood(x: Exchange) -> None:
    x.handler.send_response(200)
    x.handler.send_header("Content-Type", "application/json")
    if x.behaviour.declare_length:
        x.handler.send_header("Content-Length", str(x.behaviour.flood_bytes))
    else:
        x.handler.send_header("Connection", "close")
        x.handler.close_connection = True
    x.handler.end_headers()
    chunk = b" " * _CHUNK
    for _ in range(x.behaviour.flood_bytes // _CHUNK):
        if x.server.stopping.is_set():
            return
        x.handler.wfile.write(chunk)
        x.server.sent(len(chunk))


_BEHAVIOURS: dict[Kind, Respond] = {
    "ok": _ok,
    "echo": _echo,
    "redirect": _redirect,
    "trickle_body": _trickle_body,
    "trickle_headers": _trickle_headers,
    "flood": _flood,
}


# ---- the clients under test --------------------------------------------------------------------

QUICK_RETRY = RetryPolicy(max_attempts=2, initial_backoff_s=0.01, max_backoff_s=0.02, max_total_s=10.0)


@dataclass
class Subject:
    """A client pointed at a hostile server: the call to make, and what must never leak from it."""

    kind: ClientKind
    call: Callable[[], object]
    secrets: list[str]
    close: Callable[[], None]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def subject(
    kind: ClientKind,
    server: HostileServer,
    *,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy = QUICK_RETRY,
    max_response_bytes: int | None = None,
) -> Subject:
    """`kind`'s client on `server` (fresh credentials each time); its call reads one resource."""
    options: dict[str, Any] = {"retry": retry, "timeouts": timeouts or Timeouts(connect_s=2, read_s=10)}
    if max_response_bytes is not None:
        options["max_response_bytes"] = max_response_bytes
    if kind.startswith("fusion"):
        return _fusion_subject(kind, server, options)
    return _mailchimp_subject(kind, server, options)


def _fusion_subject(kind: ClientKind, server: HostileServer, options: dict[str, Any]) -> Subject:
    secret = "Fusion-Pw-" + secrets.token_urlsafe(18)
    auth: FusionBasicAuth | FusionOAuth
    if kind == "fusion-basic":
        auth = FusionBasicAuth(username=FUSION_USER, password=secret)
        leaks = [secret, b64(f"{FUSION_USER}:{secret}")]
    else:
        auth = FusionOAuth(
            token_url=server.url + TOKEN_PATH, client_id=FUSION_CLIENT_ID, client_secret=secret, scope=SCOPE
        )
        leaks = [secret, b64(f"{FUSION_CLIENT_ID}:{secret}"), server.issued_token]
    connection = FusionConnection(tenant="acme", base_url=server.url, resource_path=RESOURCE_PATH, auth=auth)
    client = FusionClient(connection, FusionClientOptions(**options), token_cache=TokenCache())
    return Subject(kind, lambda: client.fetch_sample(1), leaks, client.close)


def _mailchimp_subject(kind: ClientKind, server: HostileServer, options: dict[str, Any]) -> Subject:
    api_base = server.url + "/3.0"
    if kind == "mailchimp-key":
        key = secrets.token_hex(16) + "-us6"
        connection = MailchimpConnection(api_key=key, api_base=api_base)
        leaks = [key, b64(f"{MAILCHIMP_USER}:{key}")]
    else:
        token = secrets.token_hex(16)
        connection = MailchimpConnection(oauth_token=token, api_base=api_base)
        leaks = [token]
    client = MailchimpClient(connection, MailchimpClientOptions(**options))
    return Subject(kind, client.ping, leaks, client.close)


def leaked(text: str, secrets_: list[str]) -> list[str]:
    """The secrets (shown by their first characters only) that appear in `text`."""
    return [secret[:6] + "..." for secret in secrets_ if secret in text]


def exception_texts(exc: BaseException) -> str:
    """Everything an exception shows: its text, its repr, and the reprs of its attributes."""
    return "\n".join([str(exc), repr(exc), repr(vars(exc))])
