"""The front door of `/3.0`: request id, authentication, the per-key connection limit and latency.

It runs before routing (as Mailchimp authenticates before it looks at the path), holds the caller's
connection slot for the whole request, and delays the response start by the latency model, so concurrency
against the limit is real.
"""

import asyncio
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oracle_mailchimp_dagster.sandbox.common.latency import LatencyModel
from oracle_mailchimp_dagster.sandbox.common.middleware import route_name
from oracle_mailchimp_dagster.sandbox.mailchimp import problems
from oracle_mailchimp_dagster.sandbox.mailchimp.auth import parse_authorization
from oracle_mailchimp_dagster.sandbox.mailchimp.delay_ledger import DelayLedger
from oracle_mailchimp_dagster.sandbox.mailchimp.limiter import ConnectionLimiter
from oracle_mailchimp_dagster.sandbox.mailchimp.problems import (
    MailchimpProblem,
    new_request_id,
    problem_response,
)
from oracle_mailchimp_dagster.sandbox.mailchimp.store import MailchimpState

API_PREFIX = "/3.0"


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class MailchimpGate:
    """ASGI middleware in front of the router for every `/3.0` request."""

    def __init__(
        self,
        app: ASGIApp,
        router: Router,
        state: MailchimpState,
        limiter: ConnectionLimiter,
        latency: Callable[[], LatencyModel],
        delays: DelayLedger | None = None,
    ) -> None:
        self.app = app
        self.router = router
        self.state = state
        self.limiter = limiter
        self.latency = latency
        self.delays = delays or DelayLedger()

    def _match_route(self, scope: Scope) -> None:
        """Name the route before routing, so stats count refused requests under their route too."""
        partial = None
        for route in self.router.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                return
            if match is Match.PARTIAL and partial is None:
                partial = route
        if partial is not None:
            scope["route"] = partial

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        path = scope["path"]
        if not is_api_path(path):
            await self.app(scope, receive, send)
            return
        if len(path) > len(API_PREFIX) + 1 and path.endswith("/"):
            scope["path"] = path.rstrip("/")
        self._match_route(scope)
        headers = Headers(scope=scope)
        credential = parse_authorization(headers.get("authorization"))
        try:
            self.state.authenticate(credential, headers.get("host", ""))
        except MailchimpProblem as problem:
            await problem_response(problem, request_id, self.state.config.dc)(scope, receive, send)
            return
        assert credential is not None
        label = credential.label
        switches = self.state.switches
        if not self.limiter.try_acquire(label, switches.max_connections):
            refusal = problems.too_many_requests(switches.retry_after_s)
            await problem_response(refusal, request_id, self.state.config.dc)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, self._delayed(scope, send, request_id))
        finally:
            self.limiter.release(label)

    def _delayed(self, scope: Scope, send: Send, request_id: str) -> Send:
        async def delayed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode("ascii")))
                message = {**message, "headers": headers}
                items = int(scope.get("state", {}).get("latency_items", 0))
                delay = self.latency().request_delay_s(items)
                self.delays.record(route_name(scope), items, delay)
                if delay > 0:
                    await asyncio.sleep(delay)
            await send(message)

        return delayed_send
