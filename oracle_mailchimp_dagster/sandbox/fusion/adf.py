"""ADF REST wire conventions: media types, the framework-version header and error bodies (§2.5, §6.8)."""

from http import HTTPStatus

from starlette.responses import Response

from oracle_mailchimp_dagster.sandbox.common.responses import FastJSONResponse

COLLECTION_TYPE = "application/vnd.oracle.adf.resourcecollection+json"
ITEM_TYPE = "application/vnd.oracle.adf.resourceitem+json"
ERROR_TYPE = "application/vnd.oracle.adf.error+json"
DESCRIBE_TYPE = "application/vnd.oracle.adf.description+json"
VERSION_HEADER = "REST-Framework-Version"
MAX_FRAMEWORK_VERSION = 9


class AdfError(Exception):
    """An error the pod answers with an ADF error (a text/plain line or the ADF error JSON)."""

    def __init__(self, status: int, detail: str, code: str = "27501", path: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.path = path


def bad_parameter(name: str, value: str, reason: str = "") -> AdfError:
    detail = f"URL request parameter {name} with value {value} is not valid."
    return AdfError(400, f"{detail} {reason}".strip())


def framework_version(header: str | None, default: int) -> int:
    """The effective framework version: the header's, or the pod's default without one."""
    if header is None or not header.strip():
        return default
    text = header.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_FRAMEWORK_VERSION:
        raise AdfError(400, f"The REST framework version {text} is not supported.", code="27560")
    return int(text)


def wants_error_json(accept: str | None, version: int, json_min_version: int) -> bool:
    return ERROR_TYPE in (accept or "").lower() or version >= json_min_version


def render_error(error: AdfError, accept: str | None, version: int, json_min_version: int) -> Response:
    """ADF error JSON when asked for (Accept) or the version implies it; else a text/plain line."""
    headers = {VERSION_HEADER: str(version)}
    if wants_error_json(accept, version, json_min_version):
        body = {
            "title": HTTPStatus(error.status).phrase,
            "status": str(error.status),
            "o:errorDetails": [
                {"detail": error.detail, "o:errorCode": error.code, "o:errorPath": error.path}
            ],
        }
        return FastJSONResponse(body, status_code=error.status, media_type=ERROR_TYPE, headers=headers)
    return Response(error.detail, status_code=error.status, media_type="text/plain", headers=headers)


def success_media_type(accept: str | None, resource_type: str) -> str | None:
    """The Content-Type for a success answer, or None when Accept allows nothing we produce (406)."""
    if not accept or not accept.strip():
        return resource_type
    entries = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    if resource_type in entries or entries & {"*/*", "application/*"}:
        return resource_type
    if "application/json" in entries:
        return "application/json"
    if any(entry.startswith("application/vnd.oracle.adf.") for entry in entries):
        return resource_type
    return None
