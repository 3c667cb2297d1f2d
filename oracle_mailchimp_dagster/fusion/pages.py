"""Customer pages as the pod sends them: the fields asked for, and the typed page read back."""

import requests
from pydantic import ValidationError

from oracle_mailchimp_dagster.fusion.errors import FusionResponseError
from oracle_mailchimp_dagster.fusion.records import CUSTOMER_FIELDS, CustomerPage

# The `fields` parameter of every customer read: only what FusionCustomer maps.
FIELDS = ",".join(CUSTOMER_FIELDS)


def parse_page(tenant: str, response: requests.Response) -> CustomerPage:
    """The page in a response, or a FusionResponseError naming the first field that does not fit."""
    try:
        return CustomerPage.model_validate_json(response.content)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise FusionResponseError(tenant, f"unexpected customer page ({where}: {first['msg']})") from None
