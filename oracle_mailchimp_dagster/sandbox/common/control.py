"""Control routes every simulator shares: stats, faults and latency under `/__sandbox/`."""

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oracle_mailchimp_dagster.sandbox.common.faults import FaultInjector, FaultRule
from oracle_mailchimp_dagster.sandbox.common.latency import LatencyModel
from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse
from oracle_mailchimp_dagster.sandbox.common.stats import RequestStats


class SandboxControl:
    """The mutable knobs of one simulator, shared by its API handlers and its control routes."""

    def __init__(
        self,
        latency: LatencyModel,
        seed: int = 0,
        extra_stats: Callable[[], dict[str, Any]] | None = None,
        reset_extra_stats: Callable[[], None] | None = None,
    ) -> None:
        self.stats = RequestStats()
        self.faults = FaultInjector(seed)
        self.latency = latency
        self._extra_stats = extra_stats or dict
        self._reset_extra_stats = reset_extra_stats

    def stats_snapshot(self) -> dict[str, Any]:
        return {**self.stats.snapshot(), **self._extra_stats()}

    def routes(self) -> list[Route]:
        return [
            Route("/__sandbox/stats", self._get_stats, methods=["GET"]),
            Route("/__sandbox/stats/reset", self._reset_stats, methods=["POST"]),
            Route("/__sandbox/faults", self._faults, methods=["GET", "POST", "DELETE"]),
            Route("/__sandbox/latency", self._latency, methods=["GET", "PUT"]),
        ]

    async def _get_stats(self, request: Request) -> Response:
        return FastJSONResponse(self.stats_snapshot())

    def reset_stats(self) -> None:
        """Zero the shared counters and, through the callback, the simulator's own ones."""
        self.stats.reset()
        if self._reset_extra_stats is not None:
            self._reset_extra_stats()

    async def _reset_stats(self, request: Request) -> Response:
        self.reset_stats()
        return Response(status_code=204)

    async def _faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.faults.clear()
            return Response(status_code=204)
        if request.method == "POST":
            body = await request.json()
            try:
                rules = [FaultRule.model_validate(r) for r in (body if isinstance(body, list) else [body])]
            except ValidationError as exc:
                return FastJSONResponse({"error": str(exc)}, status_code=400)
            for rule in rules:
                self.faults.add(rule)
        return FastJSONResponse({"rules": self.faults.rules()})

    async def _latency(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.latency = LatencyModel.model_validate(await request.json())
            except ValidationError as exc:
                return FastJSONResponse({"error": str(exc)}, status_code=400)
        return FastJSONResponse(self.latency.model_dump())
