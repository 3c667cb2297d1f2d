"""Per-tenant connection settings and client tuning for Oracle Fusion (no I/O here)."""

from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from oracle_mailchimp_dagster.http import DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy, Timeouts

# The customer feed the reference recommends: party-level rows with email, phone, address, status.
ACCOUNTS_RESOURCE_PATH = "/crmRestApi/resources/11.13.18.05/accounts"

# Pages of one extraction in flight at once. Oracle publishes no rate limit, and a pod is shared
# with the tenant's own users: each page of 500 accounts is a heavy ADF query on the pod's limited
# request threads. Past a handful the pod, not the client, is the bottleneck (its pages just get
# slower), so more only adds load; 16 bounds the threads, connections and buffered pages too.
DEFAULT_EXTRACT_CONCURRENCY = 4
MAX_EXTRACT_CONCURRENCY = 16


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    if "@" in urlsplit(value).netloc:
        # Userinfo would be shown wherever the URL is (reprs, messages); credentials are secrets.
        raise ValueError("must not contain credentials (user:password@); pass them as secrets")
    return value.rstrip("/")


class FusionOAuth(BaseModel):
    """OAuth 2.0 client credentials against the tenant's IDCS / OCI IAM identity domain."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    kind: Literal["oauth"] = "oauth"
    token_url: str
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    scope: str = Field(min_length=1)

    _url = field_validator("token_url")(_http_url)


class FusionBasicAuth(BaseModel):
    """HTTP Basic with a local (non-SSO) integration user."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    kind: Literal["basic"] = "basic"
    username: str = Field(min_length=1)
    password: SecretStr


class FusionConnection(BaseModel):
    """Where one tenant's customers live and how to authenticate there."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    tenant: str = Field(min_length=1, description="Tenant id, used in error messages.")
    base_url: str = Field(description="The pod, e.g. https://<pod>.fa.<dc>.oraclecloud.com")
    auth: FusionOAuth | FusionBasicAuth = Field(discriminator="kind")
    resource_path: str = ACCOUNTS_RESOURCE_PATH
    framework_version: int = Field(
        default=2, ge=1, le=9, description="REST-Framework-Version sent on every call; 1 uses QBE q syntax."
    )

    _url = field_validator("base_url")(_http_url)

    @field_validator("resource_path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/") or "?" in value:
            raise ValueError("must be an absolute path such as /crmRestApi/resources/11.13.18.05/accounts")
        return value.rstrip("/")

    @property
    def resource_url(self) -> str:
        return self.base_url + self.resource_path


class FusionClientOptions(BaseModel):
    """How the client pages, overlaps windows, refreshes tokens, retries, and how long and large an
    answer may be."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    page_size: int = Field(default=500, ge=1, le=500)
    extract_concurrency: int = Field(
        default=DEFAULT_EXTRACT_CONCURRENCY,
        ge=1,
        le=MAX_EXTRACT_CONCURRENCY,
        description="Pages in flight at once while extracting (LastUpdateDate slices paged concurrently, "
        "backing off under 429/5xx/slow pages); 1 reads the window as one sequential keyset stream.",
    )
    overlap: timedelta = Field(
        default=timedelta(minutes=5), ge=timedelta(0), description="Look-back for late commits."
    )
    token_refresh_margin_s: float = Field(
        default=60.0, ge=0, description="Refresh a token this long before it expires (at most 10% of life)."
    )
    retry: RetryPolicy = RetryPolicy()
    # A page of 500 accounts can take Oracle a minute; no attempt may take more than five.
    timeouts: Timeouts = Timeouts(connect_s=10.0, read_s=120.0, deadline_s=300.0)
    max_response_bytes: int = Field(
        default=DEFAULT_MAX_RESPONSE_BYTES,
        ge=1024,
        description="Largest answer body read (a page of 500 accounts is a few MiB); larger ones fail.",
    )
