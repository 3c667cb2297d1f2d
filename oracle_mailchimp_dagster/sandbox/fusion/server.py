"""Start a Fusion sandbox as a real HTTP server on 127.0.0.1 (tests, demo, benchmarks)."""

from oracle_mailchimp_dagster.sandbox.common.server import RunningServer
from oracle_mailchimp_dagster.sandbox.fusion.app import FusionSandbox
from oracle_mailchimp_dagster.sandbox.fusion.config import FusionSandboxConfig
from oracle_mailchimp_dagster.sandbox.fusion.fault_pages import TOKEN_PATH

ACCOUNTS_PATH = "/crmRestApi/resources/11.13.18.05/accounts"


class RunningFusionSandbox:
    """A started sandbox: `url` is the pod base, `token_url` the identity endpoint (same server)."""

    def __init__(self, sandbox: FusionSandbox, server: RunningServer) -> None:
        self.sandbox = sandbox
        self._server = server

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def accounts_url(self) -> str:
        return self.url + ACCOUNTS_PATH

    @property
    def control_url(self) -> str:
        return self.url + "/__sandbox"

    @property
    def config(self) -> FusionSandboxConfig:
        """The current configuration, including switches changed at run time."""
        return self.sandbox.config

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "RunningFusionSandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningFusionSandbox(url={self.url!r}, customers={self.sandbox.store.size})"


def start_fusion_sandbox(config: FusionSandboxConfig | None = None, port: int = 0) -> RunningFusionSandbox:
    """Build the sandbox (generating its customers) and serve it; port 0 picks a free port."""
    sandbox = FusionSandbox(config or FusionSandboxConfig())
    server = RunningServer(sandbox.app, port=port).start()
    return RunningFusionSandbox(sandbox, server)
