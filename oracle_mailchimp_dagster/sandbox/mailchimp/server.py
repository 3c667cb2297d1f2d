"""Start the Mailchimp sandbox as a real HTTP server on loopback (tests, demo, `sandbox serve`)."""

from types import TracebackType

from oracle_mailchimp_dagster.sandbox.common.server import RunningServer
from oracle_mailchimp_dagster.sandbox.mailchimp.app import MailchimpSandbox
from oracle_mailchimp_dagster.sandbox.mailchimp.config import MailchimpSandboxConfig
from oracle_mailchimp_dagster.sandbox.mailchimp.oauth import METADATA_PATH


class RunningMailchimpSandbox:
    """A sandbox being served: `url` is the server root, `api_base` the `/3.0` base clients use."""

    def __init__(self, sandbox: MailchimpSandbox, server: RunningServer) -> None:
        self.sandbox = sandbox
        self._server = server

    @property
    def config(self) -> MailchimpSandboxConfig:
        return self.sandbox.config

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def api_base(self) -> str:
        return f"{self.url}/3.0"

    @property
    def control_url(self) -> str:
        return f"{self.url}/__sandbox"

    @property
    def oauth_metadata_url(self) -> str:
        return f"{self.url}{METADATA_PATH}"

    def reset(self) -> None:
        self.sandbox.reset()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "RunningMailchimpSandbox":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_mailchimp_sandbox(
    config: MailchimpSandboxConfig | None = None, port: int = 0
) -> RunningMailchimpSandbox:
    """Serve a fresh sandbox on 127.0.0.1 (port 0 = a free port); raises SandboxStartError if it cannot."""
    sandbox = MailchimpSandbox(config or MailchimpSandboxConfig())
    server = RunningServer(sandbox.app, port=port).start()
    return RunningMailchimpSandbox(sandbox, server)
