"""One Fusion sandbox: the data, the clock, the identity stand-in and the pod, as one ASGI app."""

from collections import Counter
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from oracle_mailchimp_dagster.sandbox.common.control import SandboxControl
from oracle_mailchimp_dagster.sandbox.common.middleware import CONTROL_PREFIX, SandboxMiddleware
from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse
from oracle_mailchimp_dagster.sandbox.fusion.adf import AdfError, render_error
from oracle_mailchimp_dagster.sandbox.fusion.change_rules import ChangeRuleBook
from oracle_mailchimp_dagster.sandbox.fusion.clock import SandboxClock
from oracle_mailchimp_dagster.sandbox.fusion.config import FusionSandboxConfig
from oracle_mailchimp_dagster.sandbox.fusion.control_api import FusionControlApi
from oracle_mailchimp_dagster.sandbox.fusion.fault_pages import TOKEN_PATH, render_fault
from oracle_mailchimp_dagster.sandbox.fusion.generator import CustomerGenerator
from oracle_mailchimp_dagster.sandbox.fusion.identity import IdentityApi
from oracle_mailchimp_dagster.sandbox.fusion.malformed import MalformedValues
from oracle_mailchimp_dagster.sandbox.fusion.mutations import Mutation, apply_mutations
from oracle_mailchimp_dagster.sandbox.fusion.pod import PodApi
from oracle_mailchimp_dagster.sandbox.fusion.schema import PARTY_ID, Record
from oracle_mailchimp_dagster.sandbox.fusion.store import CustomerStore
from oracle_mailchimp_dagster.sandbox.fusion.timestamps import to_millis
from oracle_mailchimp_dagster.sandbox.fusion.tokens import TokenAuthority

RESOURCES_ROOT = "/crmRestApi/resources"
ACCOUNTS_ROUTE = RESOURCES_ROOT + "/{version}/accounts"


class FusionSandbox:
    """The Oracle Fusion stand-in. `app` is the ASGI app (with stats and faults middleware); `control`
    holds stats, faults and latency; `store`, `clock`, `tokens` and `malformed` are there for the control
    API."""

    def __init__(self, config: FusionSandboxConfig | None = None) -> None:
        config = config or FusionSandboxConfig()
        self.config = config
        self.clock = SandboxClock(
            to_millis(config.clock_start) if config.clock_start is not None else None,
            frozen=config.clock_frozen,
        )
        generator = CustomerGenerator(
            config.seed, config.customers, to_millis(config.history_start), to_millis(config.history_end)
        )
        self.store = CustomerStore(generator)
        self.tokens = TokenAuthority(self.clock, config.seed)
        self.change_rules = ChangeRuleBook(config.change_rules)
        self.malformed = MalformedValues()
        self.acting_users: Counter[str] = Counter()
        self.control = SandboxControl(config.latency_model(), seed=config.seed, extra_stats=self._extra_stats)
        for rule in config.faults:
            self.control.faults.add(rule)
        self.app: ASGIApp = SandboxMiddleware(
            self._router(), self.control.stats, self.control.faults, render_fault
        )

    def _router(self) -> Starlette:
        pod, identity = PodApi(self), IdentityApi(self)
        routes = [
            Route(TOKEN_PATH, identity.token, methods=["POST"]),
            Route(RESOURCES_ROOT, pod.versions, methods=["GET"]),
            Route(RESOURCES_ROOT + "/", pod.versions, methods=["GET"]),
            Route(ACCOUNTS_ROUTE, pod.collection, methods=["GET"]),
            Route(ACCOUNTS_ROUTE + "/describe", pod.describe, methods=["GET"]),
            Route(ACCOUNTS_ROUTE + "/{party_number}", pod.item, methods=["GET"]),
            Route(ACCOUNTS_ROUTE + "/{party_number}/child/{child}", pod.child, methods=["GET"]),
            *self.control.routes(),
            *FusionControlApi(self).routes(),
        ]
        handlers = {404: self._http_error, 405: self._http_error}
        return Starlette(routes=routes, exception_handlers=handlers)

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if request.url.path.startswith(CONTROL_PREFIX):
            return FastJSONResponse(
                {"error": f"{request.method} {request.url.path}: {exc}"}, status_code=status
            )
        if request.url.path == TOKEN_PATH:
            return FastJSONResponse(
                {"error": "invalid_request", "error_description": "Use POST."}, status_code=status
            )
        detail = (
            "The requested resource is not found."
            if status == 404
            else f"Method {request.method} is not allowed."
        )
        config = self.config
        return render_error(
            AdfError(status, detail, code="27015"),
            request.headers.get("accept"),
            config.default_framework_version,
            config.error_json_min_version,
        )

    def mutate(self, mutations: list[Mutation]) -> list[Record]:
        """Apply mutations as one transaction at the clock's now; returns the affected customers.

        A customer written loses its malformed values: Oracle has changed the row."""
        records = apply_mutations(
            self.store, mutations, self.clock.now_ms(), self.config.child_changes_bump_parent
        )
        self.malformed.clear(record[PARTY_ID] for record in records)
        self.control.stats.count("mutations_applied", len(mutations))
        return records

    def apply_due_changes(self, method: str, path: str) -> None:
        """Run the change rules due before this API request (the between-pages fault)."""
        due = self.change_rules.due(method, path)
        if due:
            self.mutate(due)
            self.control.stats.count("change_rules_fired")

    def switch(self, **changes: Any) -> FusionSandboxConfig:
        """Change run-time switches (see FusionSandboxConfig); start-up-only fields raise ValueError."""
        self.config = self.config.switched(changes)
        if "latency" in changes or "latency_ms_per_1000_offset" in changes:
            self.control.latency = self.config.latency_model()
        return self.config

    def _extra_stats(self) -> dict[str, Any]:
        counters = self.control.stats.counters
        return {
            name: counters.get(name, 0)
            for name in (
                "token_grants",
                "token_denials",
                "pod_unauthorized",
                "mutations_applied",
                "change_rules_fired",
                "injected_faults",
                "dropped_connections",
            )
        } | {
            "active_tokens": self.tokens.active(),
            "requests_by_user": dict(self.acting_users),
            "customers": self.store.size,
            "changed_customers": self.store.changed,
            "malformed_customers": len(self.malformed.current()),
            "clock": self.clock.snapshot()["now"],
        }
