"""The list-segment routes under `/3.0/lists/{list_id}/segments` (reference §3.7): tags as static segments.

`POST .../segments/{segment_id}` is the bulk way to tag: up to 500 addresses to add and 500 to remove per
call, and it costs request latency plus per-address latency, like batch subscribe.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from oracle_mailchimp_dagster.sandbox.mailchimp import problems, schema
from oracle_mailchimp_dagster.sandbox.mailchimp.api import (
    Handler,
    api_base,
    guarded,
    json_response,
    no_content,
    read_json,
)
from oracle_mailchimp_dagster.sandbox.mailchimp.models import AudienceList, Segment
from oracle_mailchimp_dagster.sandbox.mailchimp.query import bool_param, page, select_segments
from oracle_mailchimp_dagster.sandbox.mailchimp.segments import (
    member_counts,
    segment_members,
    shown_statuses,
)
from oracle_mailchimp_dagster.sandbox.mailchimp.store import MailchimpState
from oracle_mailchimp_dagster.sandbox.mailchimp.views import link, member_json, segment_json


def _shown(request: Request) -> set[str]:
    params = request.query_params
    return shown_statuses(
        cleaned=bool_param(params, "include_cleaned"),
        transactional=bool_param(params, "include_transactional"),
        unsubscribed=bool_param(params, "include_unsubscribed"),
    )


class SegmentApi:
    """Route handlers for segments; each runs its state changes under the state lock, as one atomic step."""

    def __init__(self, state: MailchimpState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        def g(handler: Handler) -> Handler:
            return guarded(handler, self.state.config.dc)

        base = "/3.0/lists/{list_id}/segments"
        one = base + "/{segment_id}"
        return [
            Route(base, g(self.segments), methods=["GET", "POST"]),
            Route(one, g(self.segment), methods=["GET", "PATCH", "DELETE", "POST"]),
            Route(one + "/members", g(self.members), methods=["GET", "POST"]),
            Route(one + "/members/{ref}", g(self.member), methods=["DELETE"]),
        ]

    @staticmethod
    def _one(audience: AudienceList, segment: Segment, request: Request) -> Response:
        count = member_counts(audience, _shown(request))[segment.id]
        return json_response(request, segment_json(audience, segment, count, api_base(request)))

    async def segments(self, request: Request) -> Response:
        list_id = request.path_params["list_id"]
        base = api_base(request)
        if request.method == "POST":
            body = await read_json(request, schema.SEGMENT_CREATE)
            with self.state.locked() as state:
                audience = state.audience(list_id)
                return self._one(audience, state.segments.create(audience, body), request)
        window = page(request.query_params)
        with self.state.locked() as state:
            audience = state.audience(list_id)
            selected = select_segments(
                audience.segments.values(),
                request.query_params,
                since_inclusive=state.switches.since_inclusive,
            )
            counts = member_counts(audience, _shown(request))
            href = f"{base}/lists/{list_id}/segments"
            document = {
                "segments": [segment_json(audience, s, counts[s.id], base) for s in window.slice(selected)],
                "list_id": list_id,
                "total_items": len(selected),
                "_links": [
                    link("self", href, "GET", "Lists/Segments/Collection.json"),
                    link("parent", f"{base}/lists/{list_id}", "GET", "Lists/Instance.json"),
                    link("create", href, "POST"),
                ],
            }
        return json_response(request, document)

    async def segment(self, request: Request) -> Response:
        list_id, segment_id = request.path_params["list_id"], request.path_params["segment_id"]
        if request.method == "POST":
            return await self.change_members(request, list_id, segment_id)
        body = await read_json(request, schema.SEGMENT_UPDATE) if request.method == "PATCH" else None
        with self.state.locked() as state:
            audience = state.audience(list_id)
            segment = state.segments.get(audience, segment_id)
            if request.method == "DELETE":
                state.segments.delete(audience, segment)
                return no_content()
            if body is not None:
                state.segments.update(audience, segment, body)
            return self._one(audience, segment, request)

    async def change_members(self, request: Request, list_id: str, segment_id: str) -> Response:
        body = await read_json(request, schema.SEGMENT_BATCH)
        to_add, to_remove = list(body.get("members_to_add") or []), list(body.get("members_to_remove") or [])
        request.state.latency_items = len(to_add) + len(to_remove)
        limit = self.state.switches.segment_batch_max_members
        if len(to_add) > limit or len(to_remove) > limit:
            raise problems.segment_batch_too_large(limit)
        base = api_base(request)
        with self.state.locked() as state:
            audience = state.audience(list_id)
            segment = state.segments.get(audience, segment_id)
            change = state.segments.change_members(audience, segment, to_add, to_remove)
            document = {
                "members_added": [member_json(audience, m, base) for m in change.added],
                "members_removed": [member_json(audience, m, base) for m in change.removed],
                "errors": change.errors,
                "total_added": len(change.added),
                "total_removed": len(change.removed),
                "error_count": change.error_count,
                "_links": [link("self", f"{base}/lists/{list_id}/segments/{segment.id}", "POST")],
            }
        return json_response(request, document)

    async def members(self, request: Request) -> Response:
        list_id, segment_id = request.path_params["list_id"], request.path_params["segment_id"]
        base = api_base(request)
        if request.method == "POST":
            body = await read_json(request, schema.SEGMENT_MEMBER)
            with self.state.locked() as state:
                audience = state.audience(list_id)
                segment = state.segments.get(audience, segment_id)
                added = state.segments.add_member(audience, segment, str(body["email_address"]))
                return json_response(request, member_json(audience, added, base))
        window = page(request.query_params)
        with self.state.locked() as state:
            audience = state.audience(list_id)
            segment = state.segments.get(audience, segment_id)
            selected = segment_members(audience, segment, _shown(request))
            shown = window.slice(selected)
            href = f"{base}/lists/{list_id}/segments/{segment.id}/members"
            document = {
                "members": [member_json(audience, m, base) for m in shown],
                "total_items": len(selected),
                "_links": [
                    link("self", href, "GET", "Lists/Segments/Members/Collection.json"),
                    link("parent", f"{base}/lists/{list_id}/segments/{segment.id}", "GET"),
                    link("create", href, "POST"),
                ],
            }
        request.state.latency_items = len(shown)
        return json_response(request, document)

    async def member(self, request: Request) -> Response:
        params = request.path_params
        with self.state.locked() as state:
            audience = state.audience(params["list_id"])
            segment = state.segments.get(audience, params["segment_id"])
            state.segments.remove_member(audience, segment, params["ref"])
        return no_content()
