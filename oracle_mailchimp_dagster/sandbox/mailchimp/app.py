"""The Mailchimp sandbox as one ASGI app: shared middleware, the `/3.0` gate, the API and control routes."""

from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from oracle_mailchimp_dagster.sandbox.common.control import SandboxControl
from oracle_mailchimp_dagster.sandbox.common.middleware import SandboxMiddleware
from oracle_mailchimp_dagster.sandbox.mailchimp import problems
from oracle_mailchimp_dagster.sandbox.mailchimp.api import MailchimpApi, request_id
from oracle_mailchimp_dagster.sandbox.mailchimp.config import MailchimpSandboxConfig, latency_model
from oracle_mailchimp_dagster.sandbox.mailchimp.control_api import MailchimpControlRoutes
from oracle_mailchimp_dagster.sandbox.mailchimp.delay_ledger import DelayLedger
from oracle_mailchimp_dagster.sandbox.mailchimp.faults import render_fault
from oracle_mailchimp_dagster.sandbox.mailchimp.gate import MailchimpGate
from oracle_mailchimp_dagster.sandbox.mailchimp.limiter import ConnectionLimiter
from oracle_mailchimp_dagster.sandbox.mailchimp.oauth import OAuthMetadata
from oracle_mailchimp_dagster.sandbox.mailchimp.problems import problem_response
from oracle_mailchimp_dagster.sandbox.mailchimp.segment_api import SegmentApi
from oracle_mailchimp_dagster.sandbox.mailchimp.store import MailchimpState


class MailchimpSandbox:
    """A faithful, in-memory Mailchimp Marketing API v3; serve `.app` with any ASGI server."""

    def __init__(self, config: MailchimpSandboxConfig | None = None) -> None:
        self.config = config or MailchimpSandboxConfig()
        self.state = MailchimpState(self.config)
        self.limiter = ConnectionLimiter()
        self.delays = DelayLedger()
        self.control = SandboxControl(
            latency_model(self.config.latency),
            seed=self.config.seed,
            extra_stats=self._extra_stats,
            reset_extra_stats=self._reset_extra_stats,
        )
        routes = [
            *MailchimpControlRoutes(self.state, self.reset).routes(),
            *self.control.routes(),
            *OAuthMetadata(self.state).routes(),
            *MailchimpApi(self.state).routes(),
            *SegmentApi(self.state).routes(),
        ]
        router_app = Starlette(routes=routes, exception_handlers={HTTPException: self._http_error})
        gate = MailchimpGate(
            router_app, router_app.router, self.state, self.limiter, lambda: self.control.latency, self.delays
        )
        self.app = SandboxMiddleware(gate, self.control.stats, self.control.faults, render_fault)

    def reset(self) -> None:
        """Everything back to the config: members, lists, keys, switches, clock, faults, latency, stats."""
        self.state.reset()
        self.control.faults.clear()
        self.control.latency = latency_model(self.config.latency)
        self.control.reset_stats()

    def _extra_stats(self) -> dict[str, Any]:
        with self.state.locked() as state:
            members: dict[str, dict[str, int]] = {}
            for audience in state.lists.values():
                counts: dict[str, int] = {}
                for member in audience.members.values():
                    counts[member.status] = counts.get(member.status, 0) + 1
                members[audience.id] = counts
        return {**self.limiter.snapshot(), **self.delays.snapshot(), "members_by_list": members}

    def _reset_extra_stats(self) -> None:
        self.limiter.reset()
        self.delays.reset()

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            problem = problems.resource_not_found()
        elif exc.status_code == 405:
            problem = problems.method_not_allowed((exc.headers or {}).get("Allow", ""))
        else:
            problem = problems.generic(exc.status_code)
        return problem_response(problem, request_id(request), self.config.dc)
