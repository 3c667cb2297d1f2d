"""Contract checks against the vendored Mailchimp OpenAPI document (3.0.55), usable from any test.

- `assert_request_matches_spec(prepared_request)`: what a client sends (path, query, body, auth scheme).
- `assert_response_matches_spec(response)`: what the sandbox (or anything on a `/3.0` path) answers.
- `attach_contract_check(session)`: a `requests` response hook that checks every `/3.0` response of the
  session (and, optionally, every request), raises at once on a violation and keeps the list of failures.

Any base URL ending in `/3.0` (e.g. the sandbox's `http://127.0.0.1:PORT/3.0`) is mapped onto the spec's
server `https://server.api.mailchimp.com/3.0`. The document is parsed once per process; the parsed form is
cached in the temp directory (keyed by the file's sha256), so later processes skip the YAML parse.

Known gaps of the 3.0.55 document, handled narrowly below rather than by skipping validation (reference
§1.3): `archived` is missing from the member status enum; unset timestamps are `""` on the real API but the
spec says `date-time`; the members collection's items point at the collection schema itself; CDN errors
(502/503/504) are HTML, which the spec cannot describe; unknown routes and methods have no operation.
"""

import functools
import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.deserializing.media_types.util import json_loads
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_schema_validator import OAS30Validator

SPEC_PATH = Path(__file__).resolve().parents[1] / "contracts" / "mailchimp-openapi-3.0.55.yaml"
SPEC_HOST = "https://server.api.mailchimp.com"
API_PREFIX = "/3.0"
CDN_HTML_STATUSES = frozenset({502, 503, 504})

# Response-only fields the real API sends as "" while unset (e.g. `timestamp_signup` of an API-added contact,
# `campaign_last_sent` of a list that never sent), where the spec says `format: date-time`.
# `List_Members_1` is the same member as the spec's segment endpoints return it (`.../segments/{id}/members`).
_EMPTY_WHEN_UNSET = {
    "List_Members": ("timestamp_signup", "timestamp_opt"),
    "List_Members_1": ("timestamp_signup", "timestamp_opt"),
    "Statistics": ("campaign_last_sent", "last_sub_date", "last_unsub_date"),
}


def _load_yaml(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        loaded: dict[str, Any] = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded


def _cached_document(path: Path) -> dict[str, Any]:
    """The parsed spec, from a JSON cache next to the temp files when one matches the file's hash."""
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()[:20]
    cache = Path(tempfile.gettempdir()) / f"oracle-mailchimp-openapi-{digest}.json"
    if cache.exists():
        try:
            cached: dict[str, Any] = orjson.loads(cache.read_bytes())
            return cached
        except orjson.JSONDecodeError:
            pass
    document = _load_yaml(path)
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(orjson.dumps(document))
    os.replace(partial, cache)
    return document


def _patch_known_gaps(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document["components"]["schemas"]
    # The real API returns `archived` for archived contacts (GET one, status=archived lists, batch updates);
    # List_Members is only ever a response schema, so widening its enum does not loosen request checks.
    status = schemas["List_Members"]["properties"]["status"]
    status["enum"] = [*status["enum"], "archived"]
    for schema_name, fields in _EMPTY_WHEN_UNSET.items():
        for name in fields:
            prop = schemas[schema_name]["properties"][name]
            prop.pop("format", None)
            prop["anyOf"] = [{"format": "date-time"}, {"enum": [""]}]
    # Generator artefact: two schemas share the title "List Members", so the collection's `members` items
    # point at the collection itself; point them at the member schema so each member is really checked.
    schemas["List_Members_2"]["properties"]["members"]["items"] = {
        "$ref": "#/components/schemas/List_Members"
    }
    # Not a gap but a reading difference: `content: {}` (the 204 "Empty Response" entries) means "no body",
    # while openapi-core reads any `content` key as "a body is required". Drop the empty maps.
    for item in document["paths"].values():
        for operation in item.values():
            for response in (
                (operation.get("responses") or {}).values() if isinstance(operation, dict) else ()
            ):
                if response.get("content") == {}:
                    del response["content"]
    return document


@functools.cache
def spec_document() -> dict[str, Any]:
    """The vendored document with the known-gap patches applied (parsed once per process)."""
    return _patch_known_gaps(_cached_document(SPEC_PATH))


@functools.cache
def mailchimp_openapi() -> OpenAPI:
    # The document itself is checked once, by its own test; skipping that here saves ~1 s per process.
    # Errors are `application/problem+json`, which is JSON; openapi-core only knows `application/json`.
    config = Config(
        spec_validator_cls=None, extra_media_type_deserializers={"application/problem+json": json_loads}
    )
    return OpenAPI.from_dict(spec_document(), config=config)


@functools.cache
def _problem_validator() -> OAS30Validator:
    schemas = spec_document()["components"]["schemas"]
    return OAS30Validator(schemas["Problem_Detail_Document"])


def is_api_url(url: str | None) -> bool:
    path = urlsplit(url or "").path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class _SpecServerRequest(RequestsOpenAPIRequest):
    """A requests request seen as if it had been sent to the spec's server."""

    @property
    def host_url(self) -> str:
        return SPEC_HOST

    @property
    def path(self) -> str:
        path = super().path
        return path + "/" if path == API_PREFIX else path


def _describe(exc: Exception) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    cause: BaseException | None = exc.__cause__
    while cause is not None:
        errors = getattr(cause, "schema_errors", None)
        if errors:
            parts += [
                f"  - {'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors
            ]
        else:
            parts.append(f"  caused by {type(cause).__name__}: {cause}")
        cause = cause.__cause__
    return "\n".join(parts)


def _prepared(request: requests.PreparedRequest | None) -> requests.PreparedRequest:
    if request is None or request.url is None:
        raise AssertionError("the response carries no request to match it against the spec")
    return request


def assert_request_matches_spec(request: requests.PreparedRequest) -> None:
    """Fail with every violation if the request does not match its operation in the spec."""
    prepared = _prepared(request)
    try:
        mailchimp_openapi().validate_request(_SpecServerRequest(prepared))
    except Exception as exc:
        where = f"{prepared.method} {urlsplit(str(prepared.url)).path}"
        raise AssertionError(f"{where} violates the Mailchimp OpenAPI spec:\n{_describe(exc)}") from None


def assert_response_matches_spec(response: requests.Response) -> None:
    """Fail with every violation if the response does not match its operation's responses in the spec."""
    request = _prepared(response.request)
    where = f"{request.method} {urlsplit(str(request.url)).path} -> {response.status_code}"
    _ = response.content  # a broken transfer raises its own requests error here, not a contract failure
    content_type = response.headers.get("Content-Type", "")
    if response.status_code in CDN_HTML_STATUSES and content_type.startswith("text/html"):
        return  # an edge/CDN error page: real Mailchimp sends HTML here and the spec cannot describe it
    try:
        mailchimp_openapi().validate_response(_SpecServerRequest(request), RequestsOpenAPIResponse(response))
    except (PathNotFound, OperationNotFound):
        _assert_problem_document(response, where)
    except Exception as exc:
        raise AssertionError(f"{where} violates the Mailchimp OpenAPI spec:\n{_describe(exc)}") from None


def _assert_problem_document(response: requests.Response, where: str) -> None:
    """No operation for this path or method: only a problem document (404, 405, 401...) can be right."""
    if response.status_code < 400:
        raise AssertionError(f"{where}: a success on a path or method the spec does not define")
    if not response.headers.get("Content-Type", "").startswith("application/problem+json"):
        raise AssertionError(f"{where}: an error without application/problem+json")
    errors = sorted(_problem_validator().iter_errors(response.json()), key=str)
    if errors:
        details = "\n".join(f"  - {e.message}" for e in errors)
        raise AssertionError(f"{where} is not a Problem_Detail_Document:\n{details}")


class ContractRecorder:
    """Checks each `/3.0` exchange of a session; `failures` keeps every violation, each also raised."""

    def __init__(self, check_requests: bool = False) -> None:
        self.check_requests = check_requests
        self.failures: list[str] = []
        self.checked = 0
        self._counter_lock = threading.Lock()  # one recorder may serve many threads (concurrency tests)

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if not is_api_url(response.url):
            return response
        with self._counter_lock:
            self.checked += 1
        try:
            if self.check_requests:
                assert_request_matches_spec(_prepared(response.request))
            assert_response_matches_spec(response)
        except AssertionError as exc:
            with self._counter_lock:
                self.failures.append(str(exc))
            raise
        return response

    def assert_clean(self) -> None:
        if self.failures:
            raise AssertionError("contract violations:\n" + "\n".join(self.failures))


def attach_contract_check(session: requests.Session, *, check_requests: bool = False) -> ContractRecorder:
    """Validate every `/3.0` response (and optionally request) this session sees against the spec."""
    recorder = ContractRecorder(check_requests)
    session.hooks["response"].append(recorder)
    return recorder
