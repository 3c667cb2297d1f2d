"""Oracle Fusion client: OAuth/Basic auth, keyset extraction of changed customers (LastUpdateDate
slices paged concurrently under an adaptive limit; malformed rows quarantined), lookups by key,
change probe."""

from oracle_mailchimp_dagster.fusion.adaptive import ConcurrencyReport
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
    DEFAULT_EXTRACT_CONCURRENCY,
    MAX_EXTRACT_CONCURRENCY,
    FusionBasicAuth,
    FusionClientOptions,
    FusionConnection,
    FusionOAuth,
)
from oracle_mailchimp_dagster.fusion.tokens import PROCESS_TOKEN_CACHE, TokenCache

__all__ = [
    "ACCOUNTS_RESOURCE_PATH",
    "CUSTOMER_FIELDS",
    "DEFAULT_EXTRACT_CONCURRENCY",
    "MAX_EXTRACT_CONCURRENCY",
    "PROCESS_TOKEN_CACHE",
    "ConcurrencyReport",
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
