"""ASGI middleware shared by both simulators: stats, fault injection and the control-path bypass."""

import asyncio
import logging
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oracle_mailchimp_dagster.sandbox.common.faults import FaultInjector, FaultRule
from oracle_mailchimp_dagster.sandbox.common.stats import RequestStats

CONTROL_PREFIX = "/__sandbox"

FaultRenderer = Callable[[FaultRule, Request], Response]


class DroppedConnection(Exception):
    """Raised inside the app to make uvicorn close the connection mid-response (a `drop` fault)."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def route_name(scope: Scope) -> str:
    """`METHOD /path/{template}` for a matched route, `METHOD unmatched` otherwise."""
    route = scope.get("route")
    template = getattr(route, "path", None) or "unmatched"
    return f"{scope['method']} {template}"


def _offset(scope: Scope) -> int:
    raw = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("offset", ["0"])[0]
    return int(raw) if raw.isdigit() else 0


class SandboxMiddleware:
    """Counts every API request and applies the active fault rules before the app sees it."""

    def __init__(
        self,
        app: ASGIApp,
        stats: RequestStats,
        faults: FaultInjector,
        render_fault: FaultRenderer,
    ) -> None:
        self.app = app
        self.stats = stats
        self.faults = faults
        self.render_fault = render_fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.stats.begin()
        try:
            rule = self.faults.pick(scope["method"], scope["path"], _offset(scope))
            if rule is None:
                await self.app(scope, receive, recording_send)
            elif rule.kind == "delay":
                await asyncio.sleep(rule.delay_ms / 1000.0)
                await self.app(scope, receive, recording_send)
            elif rule.kind == "drop":
                self.stats.count("dropped_connections")
                await recording_send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
                    }
                )
                await recording_send({"type": "http.response.body", "body": b'{"items":[', "more_body": True})
                raise DroppedConnection("sandbox fault: connection dropped")
            else:
                self.stats.count("injected_faults")
                response = self.render_fault(rule, Request(scope, receive))
                await response(scope, receive, recording_send)
        finally:
            self.stats.end(route_name(scope), status)
