"""Start both simulators together, as `oracle-mailchimp sandbox serve` and the demo do."""

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from oracle_mailchimp_dagster.sandbox.common.latency import LatencyProfile
from oracle_mailchimp_dagster.sandbox.fusion import (
    ACCOUNTS_PATH,
    FusionSandboxConfig,
    start_fusion_sandbox,
)
from oracle_mailchimp_dagster.sandbox.mailchimp import MailchimpSandboxConfig, start_mailchimp_sandbox


@dataclass(frozen=True)
class SandboxOptions:
    """What `sandbox serve` lets a user choose."""

    fusion_port: int = 0
    mailchimp_port: int = 0
    customers: int = 1000
    seed: int = 42
    latency: LatencyProfile = "none"


class SandboxPair:
    """Both simulators running on loopback; stop() shuts both down."""

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self.fusion = start_fusion_sandbox(
            FusionSandboxConfig(customers=options.customers, seed=options.seed, latency=options.latency),
            port=options.fusion_port,
        )
        try:
            self.mailchimp = start_mailchimp_sandbox(
                MailchimpSandboxConfig(seed=options.seed, latency=options.latency),
                port=options.mailchimp_port,
            )
        except BaseException:
            self.fusion.stop()
            raise

    def env(self) -> dict[str, str]:
        """The connection settings a tenant needs, as the env file spells them."""
        fusion = self.fusion.config
        mailchimp = self.mailchimp.config
        return {
            "ORACLE_BASE_URL": self.fusion.url,
            "ORACLE_TOKEN_URL": self.fusion.token_url,
            "ORACLE_SCOPE": fusion.scope,
            "ORACLE_CLIENT_ID": fusion.client_id,
            "ORACLE_CLIENT_SECRET": fusion.client_secret.get_secret_value(),
            "ORACLE_RESOURCE_PATH": ACCOUNTS_PATH,
            "MAILCHIMP_API_KEY": mailchimp.api_key,
            "MAILCHIMP_API_BASE": self.mailchimp.api_base,
            "MAILCHIMP_LIST_ID": mailchimp.list_id,
        }

    def write_env_file(self, path: Path) -> None:
        lines = [f"{key}={value}" for key, value in self.env().items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        path.chmod(0o600)

    def stop(self) -> None:
        try:
            self.mailchimp.stop()
        finally:
            self.fusion.stop()

    def __enter__(self) -> "SandboxPair":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
