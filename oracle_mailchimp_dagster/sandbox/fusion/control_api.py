"""Fusion's own control routes under `/__sandbox/` (absent from the real API). Stats, faults and latency
(`/__sandbox/stats`, `/stats/reset`, `/faults`, `/latency`) come from the shared SandboxControl.

| Route | Does |
|---|---|
| `GET, PATCH /__sandbox/config` | read / change run-time switches (FusionSandboxConfig fields) |
| `GET, POST /__sandbox/clock` | read / move the clock: `{"set": iso, "advance_seconds": n, "freeze": bool}` |
| `GET /__sandbox/customers?offset&limit` | customers by PartyId (limit <= 1e5); `format=ndjson` streams all |
| `POST /__sandbox/customers` | create: attribute values, optional back-dated `LastUpdateDate` (late commit) |
| `GET, PATCH /__sandbox/customers/{PartyNumber}` | read / update attributes (`LastUpdateDate` back-dates) |
| `POST /__sandbox/customers/{PartyNumber}/inactivate`, `/reactivate` | PartyStatus I / A |
| `POST /__sandbox/customers/{PartyNumber}/merge` | `{"into": PartyNumber}`: the duplicate gets status M |
| `POST /__sandbox/customers/touch` | mass update: `{"party_numbers": [...], "oldest": n}` at one instant |
| `POST /__sandbox/mutations` | a list of mutation ops (see `mutations.py`) applied as one transaction |
| `POST /__sandbox/tokens/expire` | `{"token": t}` expires one token, `{}` all |
| `GET, POST, DELETE /__sandbox/change-rules` | mutations applied before the Nth matching API request |
| `GET, POST, DELETE /__sandbox/malform` | `{"party_numbers", "attribute", "value"}`: rows carry raw JSON |

Every mutation stamps LastUpdateDate with the sandbox clock unless it carries an explicit one. A malformed
value (any attribute, the keyset ones too) lasts until a mutation next writes that customer, or until
`DELETE /__sandbox/malform`; queries and this API's own views keep the stored value (`malformed.py`).
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse
from oracle_mailchimp_dagster.sandbox.fusion import keys
from oracle_mailchimp_dagster.sandbox.fusion.change_rules import ChangeRule
from oracle_mailchimp_dagster.sandbox.fusion.mutations import (
    CreateCustomer,
    InactivateCustomer,
    MergeCustomer,
    Mutation,
    MutationError,
    ReactivateCustomer,
    TouchCustomers,
    UpdateCustomer,
)
from oracle_mailchimp_dagster.sandbox.fusion.render import data_only
from oracle_mailchimp_dagster.sandbox.fusion.schema import BY_NAME
from oracle_mailchimp_dagster.sandbox.fusion.timestamps import to_millis

if TYPE_CHECKING:
    from oracle_mailchimp_dagster.sandbox.fusion.app import FusionSandbox

PREFIX = "/__sandbox"
LIST_LIMIT_DEFAULT = 1000
LIST_LIMIT_MAX = 100_000
_STREAM_CHUNK = 2000
_MUTATIONS = TypeAdapter(list[Mutation])


class ClockChange(BaseModel):
    """Set the clock to `set`, move it by `advance_seconds`, and/or freeze or release it."""

    model_config = ConfigDict(extra="forbid")
    set: datetime | None = None
    advance_seconds: float | None = None
    freeze: bool | None = None


class TokenExpiry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str | None = Field(default=None, description="The token to expire; all tokens when absent.")


class Malform(BaseModel):
    """Make these customers' rendered rows carry `value` (any JSON, null included) for `attribute`."""

    model_config = ConfigDict(extra="forbid")
    party_numbers: list[str] = Field(min_length=1)
    attribute: str
    value: Any = Field(description="Required: the raw JSON value to send, null included.")


class _BadRequest(Exception):
    pass


def _error(status: int, message: str) -> Response:
    return FastJSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> Any:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _BadRequest("the request body is not JSON") from None


def _int_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or (maximum is not None and int(raw) > maximum):
        limit = f" up to {maximum}" if maximum is not None else ""
        raise _BadRequest(f"{name} must be a non-negative integer{limit}")
    return int(raw)


class FusionControlApi:
    def __init__(self, sandbox: "FusionSandbox") -> None:
        self._sandbox = sandbox

    def routes(self) -> list[Route]:
        handlers = [
            ("/config", self._config, ["GET", "PATCH"]),
            ("/clock", self._clock, ["GET", "POST"]),
            ("/customers", self._customers, ["GET", "POST"]),
            ("/customers/touch", self._touch, ["POST"]),
            ("/customers/{party_number}", self._customer, ["GET", "PATCH"]),
            ("/customers/{party_number}/inactivate", self._inactivate, ["POST"]),
            ("/customers/{party_number}/reactivate", self._reactivate, ["POST"]),
            ("/customers/{party_number}/merge", self._merge, ["POST"]),
            ("/mutations", self._mutations, ["POST"]),
            ("/tokens/expire", self._expire_tokens, ["POST"]),
            ("/change-rules", self._change_rules, ["GET", "POST", "DELETE"]),
            ("/malform", self._malform, ["GET", "POST", "DELETE"]),
        ]
        return [
            Route(PREFIX + path, self._guarded(handler), methods=methods)
            for path, handler, methods in handlers
        ]

    @staticmethod
    def _guarded(handler: Any) -> Any:
        async def guarded(request: Request) -> Response:
            try:
                response: Response = await handler(request)
                return response
            except _BadRequest as exc:
                return _error(400, str(exc))
            except ValidationError as exc:
                return _error(
                    400, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                )
            except MutationError as exc:
                return _error(exc.status, str(exc))

        return guarded

    async def _config(self, request: Request) -> Response:
        if request.method == "PATCH":
            changes = await _json_body(request)
            if not isinstance(changes, dict):
                raise _BadRequest("send an object of switches to change")
            try:
                self._sandbox.switch(**changes)
            except ValueError as exc:
                if isinstance(exc, ValidationError):
                    raise
                raise _BadRequest(str(exc)) from None
        return FastJSONResponse(self._sandbox.config.model_dump(mode="json"))

    async def _clock(self, request: Request) -> Response:
        clock = self._sandbox.clock
        if request.method == "POST":
            change = ClockChange.model_validate(await _json_body(request))
            if change.set is not None:
                clock.set(to_millis(change.set))
            if change.advance_seconds is not None:
                clock.advance(round(change.advance_seconds * 1000))
            if change.freeze is True:
                clock.freeze()
            elif change.freeze is False:
                clock.unfreeze()
        return FastJSONResponse(clock.snapshot())

    async def _customers(self, request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            if not isinstance(body, dict):
                raise _BadRequest("send an object of attribute values")
            values = dict(body)
            when = values.pop("LastUpdateDate", None)
            created = self._sandbox.mutate(
                [CreateCustomer.model_validate({"values": values, "last_update_date": when})]
            )
            return FastJSONResponse(data_only(created[-1]), status_code=201)
        store = self._sandbox.store
        offset = _int_param(request, "offset", 0)
        if request.query_params.get("format") == "ndjson":
            return StreamingResponse(self._stream(offset), media_type="application/x-ndjson")
        limit = _int_param(request, "limit", LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX)
        with store.lock:
            size = store.size
            records = [store.record(slot) for slot in range(offset, min(offset + limit, size))]
        items = [data_only(record) for record in records]
        body = {
            "items": items,
            "count": len(items),
            "offset": offset,
            "limit": limit,
            "hasMore": offset + limit < size,
            "total": size,
        }
        return FastJSONResponse(body)

    async def _stream(self, offset: int) -> AsyncIterator[bytes]:
        store = self._sandbox.store
        slot = offset
        while True:
            with store.lock:
                records = [store.record(s) for s in range(slot, min(slot + _STREAM_CHUNK, store.size))]
            if not records:
                return
            yield b"".join(orjson.dumps(data_only(record)) + b"\n" for record in records)
            slot += len(records)
            await asyncio.sleep(0)

    async def _customer(self, request: Request) -> Response:
        party_number = request.path_params["party_number"]
        if request.method == "PATCH":
            body = await _json_body(request)
            if not isinstance(body, dict):
                raise _BadRequest("send an object of attribute changes")
            changes = dict(body)
            when = changes.pop("LastUpdateDate", None)
            updated = self._sandbox.mutate(
                [
                    UpdateCustomer.model_validate(
                        {"party_number": party_number, "changes": changes, "last_update_date": when}
                    )
                ]
            )
            return FastJSONResponse(data_only(updated[0]))
        store = self._sandbox.store
        slot = store.slot_of(party_number)
        if slot is None:
            raise MutationError(f"no customer has PartyNumber {party_number}", status=404)
        with store.lock:
            record = store.record(slot)
        return FastJSONResponse(data_only(record))

    async def _inactivate(self, request: Request) -> Response:
        return await self._status_change(request, InactivateCustomer)

    async def _reactivate(self, request: Request) -> Response:
        return await self._status_change(request, ReactivateCustomer)

    async def _status_change(
        self, request: Request, op: type[InactivateCustomer | ReactivateCustomer]
    ) -> Response:
        body = await _json_body(request)
        mutation = op.model_validate({**body, "party_number": request.path_params["party_number"]})
        return FastJSONResponse(data_only(self._sandbox.mutate([mutation])[0]))

    async def _merge(self, request: Request) -> Response:
        body = await _json_body(request)
        mutation = MergeCustomer.model_validate({**body, "party_number": request.path_params["party_number"]})
        records = self._sandbox.mutate([mutation])
        return FastJSONResponse({"merged": data_only(records[0]), "survivor": data_only(records[1])})

    async def _touch(self, request: Request) -> Response:
        mutation = TouchCustomers.model_validate(await _json_body(request))
        records = self._sandbox.mutate([mutation])
        stamp = data_only(records[0])["LastUpdateDate"] if records else None
        return FastJSONResponse({"touched": len(records), "LastUpdateDate": stamp})

    async def _mutations(self, request: Request) -> Response:
        body = await _json_body(request)
        mutations = _MUTATIONS.validate_python(body if isinstance(body, list) else [body])
        records = self._sandbox.mutate(mutations)
        return FastJSONResponse({"applied": len(mutations), "customers": [data_only(r) for r in records]})

    async def _expire_tokens(self, request: Request) -> Response:
        expiry = TokenExpiry.model_validate(await _json_body(request))
        return FastJSONResponse({"expired": self._sandbox.tokens.expire(expiry.token)})

    async def _change_rules(self, request: Request) -> Response:
        book = self._sandbox.change_rules
        if request.method == "DELETE":
            book.clear()
            return Response(status_code=204)
        if request.method == "POST":
            body = await _json_body(request)
            for rule in [
                ChangeRule.model_validate(item) for item in (body if isinstance(body, list) else [body])
            ]:
                book.add(rule)
        return FastJSONResponse({"rules": book.rules()})

    async def _malform(self, request: Request) -> Response:
        malformed = self._sandbox.malformed
        if request.method == "DELETE":
            malformed.clear()
            return Response(status_code=204)
        if request.method == "POST":
            change = Malform.model_validate(await _json_body(request))
            if change.attribute not in BY_NAME:
                raise _BadRequest(f"unknown attribute {change.attribute!r}")
            party_ids = []
            for number in change.party_numbers:
                slot = self._sandbox.store.slot_of(number)
                if slot is None:
                    raise MutationError(f"no customer has PartyNumber {number}", status=404)
                party_ids.append(keys.party_id(slot))
            malformed.set(party_ids, change.attribute, change.value)
        return FastJSONResponse({"malformed": _by_party_number(malformed.current())})


def _by_party_number(by_party: Mapping[int, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    listed: dict[str, dict[str, Any]] = {}
    for party_id, values in by_party.items():
        slot = keys.slot_of_party_id(party_id)
        assert slot is not None
        listed[keys.party_number(slot)] = dict(values)
    return listed
