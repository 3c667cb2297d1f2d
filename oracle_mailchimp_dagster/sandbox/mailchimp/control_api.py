"""Mailchimp control routes under `/__sandbox/` (the shared stats, faults and latency ones live in common).

| route | does |
|---|---|
| `POST /__sandbox/reset` | state, switches, clock, faults, latency and stats back to the config |
| `GET, PATCH /__sandbox/switches` | read / change behaviour switches |
| `GET, POST /__sandbox/clock` | read / shift the clock: `{"advance_seconds": n}` or `{"now": iso}` |
| `POST /__sandbox/api-keys` | register a key: `{"api_key": k, "disabled": false}` |
| `POST /__sandbox/oauth-tokens` | register an OAuth token: `{"token": t}` |
| `GET, POST /__sandbox/lists` | list audiences (fields, segments, counts) / seed one: `{"id", "name", ...}` |
| `GET, POST /__sandbox/lists/{id}/members` | dump all members (archived too), tombstones, segments / seed |
| `POST /__sandbox/lists/{id}/members/{ref}/{action}` | act as the contact or an admin (see below) |
| `POST /__sandbox/lists/{id}/signups` | a contact signs up via a hosted form (lifts a permanent delete) |

Contact actions: `unsubscribe` (by the contact: `unsub_source=self`), `admin-unsubscribe`, `bounce` (to
cleaned), `confirm` (pending to subscribed), `profile` (`{"merge_fields": {...}, "email_address": new}`).
"""

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC
from functools import wraps
from typing import Any, TypeVar, cast, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse
from oracle_mailchimp_dagster.sandbox.mailchimp.auth import credential_label
from oracle_mailchimp_dagster.sandbox.mailchimp.clock import iso, parse_iso
from oracle_mailchimp_dagster.sandbox.mailchimp.config import (
    LIST_ID_PATTERN,
    MailchimpSwitches,
    MergeFieldSpec,
    check_api_key,
)
from oracle_mailchimp_dagster.sandbox.mailchimp.contacts import (
    ContactAction,
    ContactActionError,
    ContactActions,
    SeedMember,
    Signup,
    member_dump,
)
from oracle_mailchimp_dagster.sandbox.mailchimp.models import AudienceList
from oracle_mailchimp_dagster.sandbox.mailchimp.problems import MailchimpProblem
from oracle_mailchimp_dagster.sandbox.mailchimp.store import MailchimpState

Handler = Callable[[Request], Awaitable[Response]]
M = TypeVar("M", bound=BaseModel)


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ListSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    name: str = "Sandbox Audience"
    merge_fields: list[MergeFieldSpec] = Field(default_factory=list)
    include_default_merge_fields: bool = True
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        if value is not None and not LIST_ID_PATTERN.fullmatch(value):
            raise ValueError("a list id is 10 lowercase hex characters")
        return value


class KeyRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: str
    disabled: bool = False

    @field_validator("api_key")
    @classmethod
    def _valid_key(cls, value: str) -> str:
        return check_api_key(value)


class TokenRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1)


class ClockChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    advance_seconds: float | None = None
    now: str | None = None
    real: bool = False


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise ControlError(400, "the body is not valid JSON") from None


def _model(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ControlError(400, str(exc)) from None


def _segments_dump(audience: AudienceList) -> list[dict[str, Any]]:
    """Every static segment (tag) with the number of contacts holding it, whatever their status."""
    holders: Counter[int] = Counter()
    for member in audience.members.values():
        holders.update(member.tags.keys())
    return [
        {
            "id": s.id,
            "name": s.name,
            "type": "static",
            "members": holders[s.id],
            "created_at": iso(s.created_at),
            "updated_at": iso(s.updated_at),
        }
        for s in audience.segments.values()
    ]


class MailchimpControlRoutes:
    """Handlers of the Mailchimp control API; `reset` is the sandbox's full reset."""

    def __init__(self, state: MailchimpState, reset: Callable[[], None]) -> None:
        self.state = state
        self.reset_all = reset

    @property
    def contacts(self) -> ContactActions:
        return ContactActions(self.state.writes.ctx)

    def _guard(self, handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except ControlError as exc:
                return FastJSONResponse({"error": exc.message}, status_code=exc.status)
            except MailchimpProblem as problem:
                return FastJSONResponse({"error": problem.detail}, status_code=problem.status)

        return guarded

    def routes(self) -> list[Route]:
        g = self._guard
        base = "/__sandbox"
        return [
            Route(f"{base}/reset", g(self.reset), methods=["POST"]),
            Route(f"{base}/switches", g(self.switches), methods=["GET", "PATCH"]),
            Route(f"{base}/clock", g(self.clock), methods=["GET", "POST"]),
            Route(f"{base}/api-keys", g(self.api_keys), methods=["GET", "POST"]),
            Route(f"{base}/oauth-tokens", g(self.oauth_tokens), methods=["POST"]),
            Route(f"{base}/lists", g(self.lists), methods=["GET", "POST"]),
            Route(f"{base}/lists/{{list_id}}/members", g(self.members), methods=["GET", "POST"]),
            Route(f"{base}/lists/{{list_id}}/members/{{ref}}/{{action}}", g(self.act), methods=["POST"]),
            Route(f"{base}/lists/{{list_id}}/signups", g(self.signup), methods=["POST"]),
        ]

    async def reset(self, request: Request) -> Response:
        self.reset_all()
        return Response(status_code=204)

    async def switches(self, request: Request) -> Response:
        if request.method == "PATCH":
            updates = await _json(request)
            if not isinstance(updates, dict):
                raise ControlError(400, "send an object of switch names and values")
            unknown = set(updates) - set(MailchimpSwitches.model_fields)
            if unknown:
                raise ControlError(400, f"unknown switches: {', '.join(sorted(unknown))}")
            try:
                self.state.set_switches(updates)
            except ValidationError as exc:
                raise ControlError(400, str(exc)) from None
        return FastJSONResponse(self.state.switches.model_dump())

    async def clock(self, request: Request) -> Response:
        clock = self.state.clock
        if request.method == "POST":
            change = _model(ClockChange, await _json(request))
            if change.real:
                clock.reset()
            if change.now is not None:
                try:
                    clock.set(parse_iso(change.now))
                except ValueError:
                    raise ControlError(400, "now must be an ISO 8601 timestamp") from None
            if change.advance_seconds is not None:
                clock.advance(change.advance_seconds)
        return FastJSONResponse({"now": iso(clock.now().astimezone(UTC))})

    async def api_keys(self, request: Request) -> Response:
        if request.method == "POST":
            registration = _model(KeyRegistration, await _json(request))
            self.state.register_api_key(registration.api_key, registration.disabled)
        with self.state.locked() as state:
            keys = {credential_label(k): {"disabled": r.disabled} for k, r in state.api_keys.items()}
        return FastJSONResponse({"api_keys": keys})

    async def oauth_tokens(self, request: Request) -> Response:
        registration = _model(TokenRegistration, await _json(request))
        self.state.register_oauth_token(registration.token)
        return FastJSONResponse({"oauth_tokens": len(self.state.oauth_tokens)})

    async def lists(self, request: Request) -> Response:
        if request.method == "POST":
            seed = _model(ListSeed, await _json(request))
            with self.state.locked() as state:
                if seed.id is not None and seed.id in state.lists:
                    raise ControlError(409, f"list {seed.id} already exists")
                defaults = state.config.new_list_merge_fields() if seed.include_default_merge_fields else []
                extra_tags = {f.tag for f in seed.merge_fields}
                fields = [f for f in defaults if f.tag not in extra_tags] + seed.merge_fields
                audience = state.create_list(seed.id, seed.name, seed.settings, fields)
                return FastJSONResponse(self._list_summary(audience.id), status_code=201)
        with self.state.locked() as state:
            return FastJSONResponse({"lists": [self._list_summary(list_id) for list_id in state.lists]})

    def _list_summary(self, list_id: str) -> dict[str, Any]:
        audience = self.state.audience(list_id)
        return {
            "id": audience.id,
            "name": audience.name,
            "merge_fields": [
                {"merge_id": f.merge_id, "tag": f.tag, "type": f.type, "required": f.required}
                for f in audience.merge_fields.values()
            ],
            "segments": _segments_dump(audience),
            "members": len(audience.members),
            "tombstones": len(audience.tombstones),
        }

    async def members(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        if request.method == "POST":
            data = await _json(request)
            seeds = [_model(SeedMember, item) for item in (data if isinstance(data, list) else [data])]
            with self.state.locked() as state:
                audience = state.audience(list_id)
                seeded = [member_dump(audience, self.contacts.seed(audience, s)) for s in seeds]
            return FastJSONResponse({"members": seeded}, status_code=201)
        with self.state.locked() as state:
            audience = state.audience(list_id)
            members = sorted(audience.members.values(), key=lambda m: m.seq)
            document = {
                "list_id": list_id,
                "members": [member_dump(audience, m) for m in members],
                "total_items": len(members),
                "tombstones": sorted(audience.tombstones),
                "segments": _segments_dump(audience),
            }
        return FastJSONResponse(document)

    async def act(self, request: Request) -> Response:
        list_id, ref, action = (request.path_params[k] for k in ("list_id", "ref", "action"))
        if action not in get_args(ContactAction):
            raise ControlError(
                404, f"unknown contact action {action!r}; one of {', '.join(get_args(ContactAction))}"
            )
        body = await _json(request)
        with self.state.locked() as state:
            audience = state.audience(list_id)
            member = state.writes.get(audience, ref)
            try:
                changed = self.contacts.act(
                    audience, member, cast(ContactAction, action), body if isinstance(body, dict) else {}
                )
            except ContactActionError as exc:
                raise ControlError(409, str(exc)) from None
            except ValidationError as exc:
                raise ControlError(400, str(exc)) from None
            return FastJSONResponse(member_dump(audience, changed))

    async def signup(self, request: Request) -> Response:
        signup = _model(Signup, await _json(request))
        with self.state.locked() as state:
            audience = state.audience(request.path_params["list_id"])
            member = self.contacts.signup(audience, signup)
            return FastJSONResponse(member_dump(audience, member))
