"""How to reach one Mailchimp account, and how hard the client may push it."""

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from oracle_mailchimp_dagster.http import DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy, Timeouts
from oracle_mailchimp_dagster.mailchimp.endpoints import data_center

DEFAULT_METADATA_URL = "https://login.mailchimp.com/oauth2/metadata"
# Mailchimp allows 10 simultaneous connections per API key; stay under it by default.
MAX_CONCURRENCY = 10


class MailchimpConnection(BaseModel):
    """An API key (data center from its suffix) or an OAuth token (data center from metadata).

    `api_base` overrides the derived base URL (the sandbox, a proxy); it must include `/3.0`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    api_key: SecretStr | None = None
    oauth_token: SecretStr | None = None
    api_base: str | None = None
    metadata_url: str = DEFAULT_METADATA_URL

    @field_validator("api_key")
    @classmethod
    def _well_formed_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            data_center(value.get_secret_value())
        return value

    @field_validator("api_base", "metadata_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        if value is not None and "@" in urlsplit(value).netloc:
            # Userinfo would be shown wherever the URL is (reprs, messages); credentials are secrets.
            raise ValueError("must not contain credentials (user:password@); pass them as secrets")
        return value.rstrip("/") if value is not None else None

    @model_validator(mode="after")
    def _one_credential(self) -> "MailchimpConnection":
        if (self.api_key is None) == (self.oauth_token is None):
            raise ValueError("give exactly one of api_key or oauth_token")
        return self

    @property
    def secret(self) -> SecretStr:
        credential = self.api_key or self.oauth_token
        assert credential is not None
        return credential


class MailchimpClientOptions(BaseModel):
    """Concurrency per API key (shared by every client in the process), batch size, retries, timeouts,
    and the largest answer read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    concurrency: int = Field(default=8, ge=1, le=MAX_CONCURRENCY)
    batch_size: int = Field(default=500, ge=1, le=500)
    retry: RetryPolicy = RetryPolicy(initial_backoff_s=1.0, max_backoff_s=60.0)
    # Mailchimp times a request out at 120 s; wait a little longer for its answer, five minutes at most.
    timeouts: Timeouts = Timeouts(connect_s=10.0, read_s=130.0, deadline_s=300.0)
    max_response_bytes: int = Field(
        default=DEFAULT_MAX_RESPONSE_BYTES,
        ge=1024,
        description="Largest answer body read (a page of 1000 members is a few MiB); larger ones fail.",
    )
