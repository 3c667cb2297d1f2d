"""The pod stand-in: `crmRestApi` accounts collection, items, child collections, describe and versions.

Every request: framework version, authentication (bearer token or Basic), due change rules, then the
handler; the latency model is awaited last, so concurrent requests overlap as they do on a real pod.
"""

import hashlib
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse
from oracle_mailchimp_dagster.sandbox.fusion import params
from oracle_mailchimp_dagster.sandbox.fusion.adf import (
    COLLECTION_TYPE,
    DESCRIBE_TYPE,
    ITEM_TYPE,
    MAX_FRAMEWORK_VERSION,
    VERSION_HEADER,
    AdfError,
    framework_version,
    render_error,
    success_media_type,
)
from oracle_mailchimp_dagster.sandbox.fusion.engine import Selection, Window, select
from oracle_mailchimp_dagster.sandbox.fusion.identity import basic_credentials, same_secret
from oracle_mailchimp_dagster.sandbox.fusion.query.ast import Compare, Node, attributes_of, conjoin
from oracle_mailchimp_dagster.sandbox.fusion.render import CHILD_BUILDERS, RESOURCE, VERSION, ItemRenderer
from oracle_mailchimp_dagster.sandbox.fusion.schema import ATTRIBUTE_INDEX, Record

if TYPE_CHECKING:
    from oracle_mailchimp_dagster.sandbox.fusion.app import FusionSandbox

VERSIONS = (VERSION, "latest")
Handled = tuple[Response, int, int]


class PodApi:
    def __init__(self, sandbox: "FusionSandbox") -> None:
        self._sandbox = sandbox

    # Routes -----------------------------------------------------------------------------------------

    async def collection(self, request: Request) -> Response:
        return await self._serve(request, self._collection)

    async def item(self, request: Request) -> Response:
        return await self._serve(request, self._item)

    async def child(self, request: Request) -> Response:
        return await self._serve(request, self._child)

    async def describe(self, request: Request) -> Response:
        return await self._serve(request, self._describe)

    async def versions(self, request: Request) -> Response:
        return await self._serve(request, self._versions)

    # Pipeline ---------------------------------------------------------------------------------------

    async def _serve(self, request: Request, handler: Callable[[Request, int], Handled]) -> Response:
        config = self._sandbox.config
        accept = request.headers.get("accept")
        version = config.default_framework_version
        items, offset = 0, 0
        try:
            version = framework_version(request.headers.get(VERSION_HEADER), version)
            denial = self._authenticate(request)
            if denial is not None:
                response = denial
            else:
                self._sandbox.apply_due_changes(request.method, request.url.path)
                response, items, offset = handler(request, version)
        except AdfError as error:
            response = render_error(error, accept, version, config.error_json_min_version)
        await self._sandbox.control.latency.wait(items=items, offset=offset)
        return response

    def _authenticate(self, request: Request) -> Response | None:
        config = self._sandbox.config
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        user: str | None = None
        if scheme.lower() == "bearer":
            user = self._sandbox.tokens.subject(credentials.strip())
        elif config.basic_auth_enabled:
            pair = basic_credentials(header)
            if (
                pair is not None
                and pair[0] == config.basic_user
                and same_secret(pair[1], config.basic_password.get_secret_value())
            ):
                user = pair[0]
        if user is not None:
            self._sandbox.acting_users[user] += 1
            return None
        self._sandbox.control.stats.count("pod_unauthorized")
        if config.unauthorized_json:
            return FastJSONResponse(
                {"title": "Unauthorized", "status": "401"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return Response(b"", status_code=401, media_type="text/plain")

    def _check_access(self) -> bool:
        """False when data security hides every row; raises the 403 of the forbidden variant."""
        config = self._sandbox.config
        if not config.user_without_access:
            return True
        if config.forbidden_without_access:
            raise AdfError(
                403, f"The user is not authorized to access the resource {RESOURCE}.", code="27504"
            )
        return False

    def _base_url(self, request: Request) -> str:
        config = self._sandbox.config
        base = (config.public_base_url or f"{request.url.scheme}://{request.url.netloc}").rstrip("/")
        scheme, _, rest = base.partition("://")
        host = rest.split("/", 1)[0]
        if config.href_include_443 and scheme == "https" and ":" not in host:
            base = f"{scheme}://{host}:443{rest[len(host) :]}"
        return base

    @staticmethod
    def _version_segment(request: Request) -> None:
        if request.path_params["version"] not in VERSIONS:
            raise AdfError(
                404, f"The resource version {request.path_params['version']} is not found.", code="27015"
            )

    @staticmethod
    def _media_type(request: Request, resource_type: str) -> str:
        media_type = success_media_type(request.headers.get("accept"), resource_type)
        if media_type is None:
            raise AdfError(406, "The requested media type is not supported.", code="27010")
        return media_type

    def _respond(self, body: dict[str, Any], media_type: str, version: int, status: int = 200) -> Response:
        return FastJSONResponse(
            body, status_code=status, media_type=media_type, headers={VERSION_HEADER: str(version)}
        )

    # Handlers ---------------------------------------------------------------------------------------

    def _collection(self, request: Request, version: int) -> Handled:
        self._version_segment(request)
        config = self._sandbox.config
        query = request.query_params
        media_type = self._media_type(request, COLLECTION_TYPE)
        limit = params.parse_limit(query.get("limit"), config.limit_default, config.effective_limit_cap)
        offset = params.parse_offset(query.get("offset"))
        order = params.parse_order_by(query.get("orderBy"))
        shape = params.parse_item_shape(
            query.get("fields"), query.get("onlyData"), query.get("links"), query.get("expand")
        )
        predicate = conjoin(
            params.parse_query(query.get("q"), version), params.parse_finder(query.get("finder"))
        )
        want_total = params.parse_flag(query.get("totalResults"))
        if not config.include_inactive_by_default and (
            predicate is None or "PartyStatus" not in attributes_of(predicate)
        ):
            predicate = conjoin(predicate, Compare("PartyStatus", "=", "A"))
        selection = Selection([], False, 0)
        if self._check_access():
            store = self._sandbox.store
            shuffle = random.Random() if config.shuffle_unordered else None
            with store.lock:
                selection = select(
                    store, predicate, order, Window(offset, limit, want_total), ATTRIBUTE_INDEX, shuffle
                )
        renderer = ItemRenderer(self._base_url(request), shape, version, self._sandbox.malformed.current())
        items = [renderer.item(record) for record in selection.records]
        body: dict[str, Any] = {"items": items}
        if want_total:
            body["totalResults"] = self._estimate(selection.total or 0, predicate)
        body["count"] = len(items)
        body["hasMore"] = selection.has_more
        body["limit"] = limit
        body["offset"] = offset
        body["links"] = renderer.collection_links(config.only_data_keeps_collection_links)
        return self._respond(body, media_type, version), len(items), offset

    def _estimate(self, total: int, predicate: Node | None) -> int:
        """totalResults is an estimate on real pods; `estimate_skew` makes it visibly one."""
        skew = self._sandbox.config.estimate_skew
        if skew <= 0 or total == 0:
            return total
        digest = hashlib.sha256(repr(predicate).encode()).digest()
        factor = (int.from_bytes(digest[:4], "big") / 2**32 * 2 - 1) * skew
        return max(0, round(total * (1 + factor)))

    def _lookup(self, request: Request) -> Record:
        self._version_segment(request)
        party_number = request.path_params["party_number"]
        store = self._sandbox.store
        slot = store.slot_of(party_number)
        if not self._check_access() or slot is None:
            raise AdfError(
                404, f"The requested resource {RESOURCE}/{party_number} does not exist.", code="27024"
            )
        with store.lock:
            return store.record(slot)

    def _item(self, request: Request, version: int) -> Handled:
        media_type = self._media_type(request, ITEM_TYPE)
        record = self._lookup(request)
        query = request.query_params
        shape = params.parse_item_shape(
            query.get("fields"), query.get("onlyData"), query.get("links"), query.get("expand")
        )
        malformed = self._sandbox.malformed.current()
        body = ItemRenderer(self._base_url(request), shape, version, malformed).item(record)
        return self._respond(body, media_type, version), 1, 0

    def _child(self, request: Request, version: int) -> Handled:
        child = request.path_params["child"]
        if child not in CHILD_BUILDERS:
            raise AdfError(404, f"The child resource {child} is not found in {RESOURCE}.", code="27015")
        media_type = self._media_type(request, COLLECTION_TYPE)
        record = self._lookup(request)
        query = request.query_params
        shape = params.parse_item_shape(None, query.get("onlyData"), query.get("links"), None)
        renderer = ItemRenderer(self._base_url(request), shape, version)
        href = f"{renderer.collection_href}/{request.path_params['party_number']}/child/{child}"
        items = CHILD_BUILDERS[child](record)
        return self._respond(renderer.child_envelope(items, href, child), media_type, version), len(items), 0

    def _describe(self, request: Request, version: int) -> Handled:
        self._version_segment(request)
        href = f"{self._base_url(request)}/crmRestApi/resources/{VERSION}/{RESOURCE}"
        body = {
            "Resources": {
                RESOURCE: {
                    "discrColumnType": False,
                    "title": "Accounts",
                    "titlePlural": "Accounts",
                    "attributes": params.describe_attributes(),
                    "collection": {
                        "rangeSize": self._sandbox.config.limit_default,
                        "finders": [
                            {
                                "name": name,
                                "attributes": [{"name": variable, "type": "string", "required": True}],
                            }
                            for name, (variable, _) in params.FINDERS.items()
                        ],
                    },
                    "children": {name: {"discrColumnType": False, "title": name} for name in CHILD_BUILDERS},
                    "links": [
                        {"rel": "self", "href": f"{href}/describe", "name": "self", "kind": "describe"}
                    ],
                }
            }
        }
        return self._respond(body, self._media_type(request, DESCRIBE_TYPE), version), 0, 0

    def _versions(self, request: Request, version: int) -> Handled:
        base = self._base_url(request)
        body = {
            "items": [
                {
                    "version": VERSION,
                    "isLatest": True,
                    "adf:extension": {
                        "defaultFrameworkVersion": str(self._sandbox.config.default_framework_version),
                        "allowedFrameworkVersions": [str(v) for v in range(1, MAX_FRAMEWORK_VERSION + 1)],
                    },
                    "links": [
                        {
                            "rel": "canonical",
                            "href": f"{base}/crmRestApi/resources/{VERSION}",
                            "kind": "collection",
                        }
                    ],
                }
            ]
        }
        return self._respond(body, self._media_type(request, "application/json"), version), 0, 0
