"""The Marketing API v3 routes under `/3.0` (reference §9.2): thin handlers over state and member writes."""

import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse
from oracle_mailchimp_dagster.sandbox.mailchimp import problems, schema
from oracle_mailchimp_dagster.sandbox.mailchimp.field_filter import filter_fields
from oracle_mailchimp_dagster.sandbox.mailchimp.models import AudienceList, MergeField
from oracle_mailchimp_dagster.sandbox.mailchimp.problems import (
    MailchimpProblem,
    new_request_id,
    problem_response,
)
from oracle_mailchimp_dagster.sandbox.mailchimp.query import page, select_members
from oracle_mailchimp_dagster.sandbox.mailchimp.store import MailchimpState
from oracle_mailchimp_dagster.sandbox.mailchimp.views import (
    account_json,
    link,
    list_json,
    member_json,
    member_tags_json,
    merge_field_json,
    ordered_merge_fields,
)

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
Handler = Callable[[Request], Awaitable[Response]]

logger = logging.getLogger(__name__)


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id") or new_request_id())


def api_base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/3.0"


def flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("true", "1")


async def read_json(
    request: Request, body_schema: schema.Schema, address_tags: set[str] | None = None
) -> Any:
    """The parsed body, or `JSON Parse Error` / `Invalid Resource` with Mailchimp's field errors."""
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise problems.json_parse_error() from None
    errors = schema.check(body, body_schema, address_tags=address_tags or set())
    if errors:
        raise problems.schema_errors(errors)
    return body


def json_response(request: Request, document: dict[str, Any]) -> Response:
    params = request.query_params
    document = filter_fields(document, params.get("fields"), params.get("exclude_fields"))
    return FastJSONResponse(document, media_type=JSON_MEDIA_TYPE)


def no_content() -> Response:
    return Response(status_code=204)


def guarded(handler: Handler, dc: str) -> Handler:
    """The handler with Mailchimp's problem responses for its problems and for anything unexpected."""

    @wraps(handler)
    async def guarded_handler(request: Request) -> Response:
        try:
            return await handler(request)
        except MailchimpProblem as problem:
            return problem_response(problem, request_id(request), dc)
        except Exception:
            logger.exception("mailchimp sandbox: unexpected error in %s", request.url.path)
            return problem_response(problems.internal_error(), request_id(request), dc)

    return guarded_handler


class MailchimpApi:
    """Route handlers; each runs its state changes under the state lock, as one atomic step."""

    def __init__(self, state: MailchimpState) -> None:
        self.state = state

    def _guard(self, handler: Handler) -> Handler:
        return guarded(handler, self.state.config.dc)

    def routes(self) -> list[Route]:
        g = self._guard
        base = "/3.0"
        member = base + "/lists/{list_id}/members/{ref}"
        return [
            Route(base, g(self.root), methods=["GET"]),
            Route(base + "/", g(self.root), methods=["GET"]),
            Route(base + "/ping", g(self.ping), methods=["GET"]),
            Route(base + "/lists", g(self.lists), methods=["GET", "POST"]),
            Route(base + "/lists/{list_id}", g(self.one_list), methods=["GET", "PATCH", "DELETE", "POST"]),
            Route(base + "/lists/{list_id}/members", g(self.members), methods=["GET", "POST"]),
            Route(member, g(self.member), methods=["GET", "PUT", "PATCH", "DELETE"]),
            Route(member + "/actions/{action}", g(self.member_action), methods=["POST"]),
            Route(member + "/tags", g(self.member_tags), methods=["GET", "POST"]),
            Route(base + "/lists/{list_id}/merge-fields", g(self.merge_fields), methods=["GET", "POST"]),
            Route(
                base + "/lists/{list_id}/merge-fields/{merge_id}",
                g(self.merge_field),
                methods=["GET", "PATCH", "DELETE"],
            ),
        ]

    # --- account ---------------------------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        with self.state.locked() as state:
            subscribed = sum(
                1
                for audience in state.lists.values()
                for m in audience.members.values()
                if m.status == "subscribed"
            )
            config = state.config
            document = account_json(
                config.account_name, config.login_email, config.dc, subscribed, api_base(request)
            )
        return json_response(request, document)

    async def ping(self, request: Request) -> Response:
        return json_response(request, {"health_status": "Everything's Chimpy!"})

    # --- lists -----------------------------------------------------------------------------------------

    async def lists(self, request: Request) -> Response:
        base = api_base(request)
        if request.method == "POST":
            body = await read_json(request, schema.LIST_CREATE)
            with self.state.locked() as state:
                settings = {k: v for k, v in body.items() if k != "name"}
                audience = state.create_list(
                    None, body["name"], settings, state.config.new_list_merge_fields()
                )
                return json_response(request, list_json(audience, base))
        window = page(request.query_params)
        email = request.query_params.get("email")
        with self.state.locked() as state:
            audiences = sorted(state.lists.values(), key=lambda a: a.date_created)
            if email:
                audiences = [a for a in audiences if a.find_member(email) is not None]
            if request.query_params.get("sort_dir") == "DESC":
                audiences.reverse()
            document = {
                "lists": [
                    list_json(a, base) for a in audiences[window.offset : window.offset + window.count]
                ],
                "total_items": len(audiences),
                "constraints": {
                    "may_create": True,
                    "max_instances": 100,
                    "current_total_instances": len(state.lists),
                },
                "_links": [link("self", f"{base}/lists"), link("create", f"{base}/lists", "POST")],
            }
        return json_response(request, document)

    async def one_list(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        if request.method == "POST":
            return await self.batch(request, list_id)
        body = await read_json(request, schema.LIST_UPDATE) if request.method == "PATCH" else None
        with self.state.locked() as state:
            audience = state.audience(list_id)
            if request.method == "DELETE":
                del state.lists[list_id]
                return no_content()
            if body is not None:
                audience.name = body.get("name", audience.name)
                audience.settings.update({k: v for k, v in body.items() if k != "name"})
            return json_response(request, list_json(audience, api_base(request)))

    async def batch(self, request: Request, list_id: str) -> Response:
        with self.state.locked() as state:
            address_tags = _address_tags(state.audience(list_id))
        body = await read_json(request, schema.BATCH, address_tags)
        request.state.latency_items = len(body["members"])
        limit = self.state.switches.batch_max_members
        if len(body["members"]) > limit:
            raise problems.invalid_resource(
                "Maximum allowed member items exceeded, please provide at most "
                f"{limit} items in members field"
            )
        base = api_base(request)
        with self.state.locked() as state:
            audience = state.audience(list_id)
            result = state.writes.batch(
                audience,
                body,
                skip_merge_validation=flag(request, "skip_merge_validation"),
                skip_duplicate_check=flag(request, "skip_duplicate_check"),
            )
            document = {
                "new_members": [member_json(audience, m, base) for m in result.new_members],
                "updated_members": [member_json(audience, m, base) for m in result.updated_members],
                "errors": result.errors,
                "total_created": len(result.new_members),
                "total_updated": len(result.updated_members),
                "error_count": len(result.errors),
                "_links": [link("self", f"{base}/lists/{list_id}", "POST")],
            }
        return json_response(request, document)

    # --- members ---------------------------------------------------------------------------------------

    async def members(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        base = api_base(request)
        if request.method == "POST":
            with self.state.locked() as state:
                address_tags = _address_tags(state.audience(list_id))
            body = await read_json(request, schema.MEMBER_CREATE, address_tags)
            with self.state.locked() as state:
                audience = state.audience(list_id)
                created = state.writes.create(audience, body, flag(request, "skip_merge_validation"))
                return json_response(request, member_json(audience, created, base))
        window = page(request.query_params)
        with self.state.locked() as state:
            audience = state.audience(list_id)
            switches = state.switches
            selected = select_members(
                audience.members.values(),
                request.query_params,
                include_archived=switches.include_archived_by_default,
                since_inclusive=switches.since_inclusive,
            )
            shown = window.slice(selected)
            document = {
                "members": [member_json(audience, m, base) for m in shown],
                "list_id": list_id,
                "total_items": len(selected),
                "_links": [
                    link("self", f"{base}/lists/{list_id}/members"),
                    link("parent", f"{base}/lists/{list_id}"),
                    link("create", f"{base}/lists/{list_id}/members", "POST"),
                ],
            }
        request.state.latency_items = len(shown)
        return json_response(request, document)

    async def member(self, request: Request) -> Response:
        list_id, ref = request.path_params["list_id"], request.path_params["ref"]
        base = api_base(request)
        method = request.method
        body: Any = None
        if method in ("PUT", "PATCH"):
            with self.state.locked() as state:
                address_tags = _address_tags(state.audience(list_id))
            body_schema = schema.MEMBER_UPSERT if method == "PUT" else schema.MEMBER_UPDATE
            body = await read_json(request, body_schema, address_tags)
        skip = flag(request, "skip_merge_validation")
        with self.state.locked() as state:
            audience = state.audience(list_id)
            writes = state.writes
            if method == "DELETE":
                writes.archive(audience, ref)
                return no_content()
            if method == "PUT":
                found = writes.upsert(audience, ref, body, skip)
            elif method == "PATCH":
                found = writes.update(audience, ref, body, skip)
            else:
                found = writes.get(audience, ref)
            return json_response(request, member_json(audience, found, base))

    async def member_action(self, request: Request) -> Response:
        list_id, ref = request.path_params["list_id"], request.path_params["ref"]
        if request.path_params["action"] != "delete-permanent":
            raise MailchimpProblem(
                400, "Invalid Action", "The action requested was not valid for this resource."
            )
        with self.state.locked() as state:
            state.writes.delete_permanent(state.audience(list_id), ref)
        return no_content()

    async def member_tags(self, request: Request) -> Response:
        list_id, ref = request.path_params["list_id"], request.path_params["ref"]
        if request.method == "POST":
            body = await read_json(request, schema.MEMBER_TAGS)
            with self.state.locked() as state:
                state.writes.set_tags(state.audience(list_id), ref, body)
            return no_content()
        window = page(request.query_params)
        with self.state.locked() as state:
            audience = state.audience(list_id)
            member = state.writes.get(audience, ref)
            document = member_tags_json(audience, member, api_base(request), window.count, window.offset)
        return json_response(request, document)

    # --- merge fields ----------------------------------------------------------------------------------

    async def merge_fields(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        base = api_base(request)
        if request.method == "POST":
            body = await read_json(request, schema.MERGE_FIELD_CREATE)
            with self.state.locked() as state:
                created = state.add_merge_field(state.audience(list_id), body)
                return json_response(request, merge_field_json(list_id, created, base))
        window = page(request.query_params)
        kind = request.query_params.get("type")
        required = request.query_params.get("required")
        with self.state.locked() as state:
            fields = ordered_merge_fields(state.audience(list_id))
            if kind:
                fields = [f for f in fields if f.type == kind]
            if required is not None and required != "":
                fields = [f for f in fields if f.required == (required.lower() == "true")]
            document = {
                "merge_fields": [
                    merge_field_json(list_id, f, base)
                    for f in fields[window.offset : window.offset + window.count]
                ],
                "list_id": list_id,
                "total_items": len(fields),
                "_links": [
                    link("self", f"{base}/lists/{list_id}/merge-fields"),
                    link("create", f"{base}/lists/{list_id}/merge-fields", "POST"),
                ],
            }
        return json_response(request, document)

    async def merge_field(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        body = await read_json(request, schema.MERGE_FIELD_UPDATE) if request.method == "PATCH" else None
        with self.state.locked() as state:
            audience = state.audience(list_id)
            merge_field = _merge_field(audience, request.path_params["merge_id"])
            if request.method == "DELETE":
                state.delete_merge_field(audience, merge_field)
                return no_content()
            if body is not None:
                state.update_merge_field(audience, merge_field, body)
            return json_response(request, merge_field_json(list_id, merge_field, api_base(request)))


def _address_tags(audience: AudienceList) -> set[str]:
    return {f.tag for f in audience.merge_fields.values() if f.type == "address"}


def _merge_field(audience: AudienceList, raw_id: str) -> MergeField:
    merge_field = audience.merge_fields.get(int(raw_id)) if raw_id.isdigit() else None
    if merge_field is None:
        raise problems.resource_not_found()
    return merge_field
