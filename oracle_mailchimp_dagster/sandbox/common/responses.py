"""Fast JSON responses (orjson): the Oracle sandbox serialises up to 500 wide rows per page."""

from typing import Any

import orjson
from starlette.responses import Response


class FastJSONResponse(Response):
    """A JSON response rendered with orjson, with a caller-chosen media type."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
