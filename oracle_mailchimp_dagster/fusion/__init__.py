"""Oracle Fusion client: OAuth/Basic auth, keyset extraction of changed customers (malformed rows
quarantined), lookups by key, change probe."""

from oracle_mailchimp_dagster.fusion.client import CustomerLookup, FusionClient
from oracle_mailchimp_dagster.fusion.errors import (
    FusionAuthError,
    FusionError,
    FusionKeysetError,
    FusionRequestError,
    FusionResponseError,
    FusionUnavailableError,
    OracleErrorDetail,
)
from oracle_mailchimp_dagster.fusion.extraction import CustomerExtraction
from oracle_mailchimp_dagster.fusion.query import CustomerCursor
from oracle_mailchimp_dagster.fusion.records import CUSTOMER_FIELDS, FusionCustomer, QuarantinedRow
from oracle_mailchimp_dagster.fusion.settings import (
    ACCOUNTS_RESOURCE_PATH,
    FusionBasicAuth,
    FusionClientOptions,
    FusionConnection,
    FusionOAuth,
)
from oracle_mailchimp_dagster.fusion.tokens import PROCESS_TOKEN_CACHE, TokenCache

__all__ = [
    "ACCOUNTS_RESOURCE_PATH",
    "CUSTOMER_FIELDS",
    "PROCESS_TOKEN_CACHE",
    "CustomerCursor",
    "CustomerExtraction",
    "CustomerLookup",
    "FusionAuthError",
    "FusionBasicAuth",
    "FusionClient",
    "FusionClientOptions",
    "FusionConnection",
    "FusionCustomer",
    "FusionError",
    "FusionKeysetError",
    "FusionOAuth",
    "FusionRequestError",
    "FusionResponseError",
    "FusionUnavailableError",
    "OracleErrorDetail",
    "QuarantinedRow",
    "TokenCache",
]
