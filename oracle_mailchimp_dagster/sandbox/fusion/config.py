"""Everything a Fusion sandbox is started with: data size and seed, credentials, latency and the switches
that reproduce the behaviours real pods disagree on (reference §6.9)."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from oracle_mailchimp_dagster.sandbox.common.faults import FaultRule
from oracle_mailchimp_dagster.sandbox.common.latency import LatencyModel, LatencyProfile
from oracle_mailchimp_dagster.sandbox.fusion import keys
from oracle_mailchimp_dagster.sandbox.fusion.change_rules import ChangeRule

DEFAULT_SCOPE = "urn:opc:resource:fa:instanceid=1234567urn:opc:resource:consumer::all"

#: Fields fixed at start; every other field can be switched at run time (`PATCH /__sandbox/config`).
STARTUP_ONLY = frozenset(
    {
        "customers",
        "seed",
        "history_start",
        "history_end",
        "clock_start",
        "clock_frozen",
        "faults",
        "change_rules",
    }
)


class FusionSandboxConfig(BaseModel):
    """How the Oracle Fusion sandbox behaves; defaults match real Fusion as far as it is known."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customers: int = Field(default=1000, ge=0, le=keys.MAX_SLOTS // 2)
    seed: int = 42
    latency: LatencyProfile = "none"
    latency_ms_per_1000_offset: float = Field(default=0.0, ge=0, description="Deep offsets get slower.")

    client_id: str = "fusion-sandbox-client"
    client_secret: SecretStr = SecretStr("fusion-sandbox-client-secret")
    scope: str = DEFAULT_SCOPE
    token_ttl_seconds: int = Field(default=3600, ge=1)
    basic_user: str = "INTEGRATION.USER"
    basic_password: SecretStr = SecretStr("fusion-sandbox-password")
    basic_auth_enabled: bool = True
    unauthorized_json: bool = Field(
        default=False, description="401 with a JSON body and WWW-Authenticate instead of an empty body."
    )
    user_without_access: bool = Field(
        default=False, description="Data security hides every row (200, no items)."
    )
    forbidden_without_access: bool = Field(
        default=False, description="With user_without_access: 403 instead."
    )

    default_framework_version: int = Field(default=1, ge=1, le=9)
    error_json_min_version: int = Field(default=4, ge=1, le=10)
    limit_default: int = Field(default=25, ge=1)
    limit_cap: int = Field(default=500, ge=1)
    limit_cap_quirk_499: bool = False
    include_inactive_by_default: bool = True
    child_changes_bump_parent: bool = True
    shuffle_unordered: bool = False
    estimate_skew: float = Field(default=0.0, ge=0.0, le=1.0)
    only_data_keeps_collection_links: bool = True
    href_include_443: bool = True
    public_base_url: str | None = Field(default=None, description="Base of generated hrefs (else the Host).")

    history_start: datetime = datetime(2015, 1, 1, tzinfo=UTC)
    history_end: datetime = datetime(2026, 6, 30, 12, tzinfo=UTC)
    clock_start: datetime | None = Field(default=None, description="Sandbox time at start (else wall time).")
    clock_frozen: bool = False

    faults: list[FaultRule] = Field(default_factory=list)
    change_rules: list[ChangeRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _history_in_order(self) -> "FusionSandboxConfig":
        if self.history_end <= self.history_start:
            raise ValueError("history_end must be after history_start")
        return self

    @property
    def effective_limit_cap(self) -> int:
        return min(self.limit_cap, 499) if self.limit_cap_quirk_499 else self.limit_cap

    def latency_model(self) -> LatencyModel:
        """`realistic`: 300 ms per request, 1 ms per returned row, 200 ms per token grant."""
        if self.latency == "realistic":
            return LatencyModel(
                request_ms=300,
                per_item_ms=1,
                token_ms=200,
                per_1000_offset_ms=self.latency_ms_per_1000_offset,
            )
        return LatencyModel(per_1000_offset_ms=self.latency_ms_per_1000_offset)

    def switched(self, changes: dict[str, Any]) -> "FusionSandboxConfig":
        """A copy with run-time switches changed (validated); start-up-only fields are refused."""
        fixed = sorted(set(changes) & STARTUP_ONLY)
        if fixed:
            raise ValueError(f"{', '.join(fixed)} can only be set when the sandbox starts")
        current = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self).model_validate({**current, **changes})
