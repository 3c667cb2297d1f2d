"""Oracle Fusion Cloud sandbox: a faithful local stand-in for the identity domain and the `crmRestApi`
accounts resource (ADF query framework, auth, faults, latency), with a control API under `/__sandbox/`.
"""

from oracle_mailchimp_dagster.sandbox.fusion.app import FusionSandbox
from oracle_mailchimp_dagster.sandbox.fusion.change_rules import ChangeRule
from oracle_mailchimp_dagster.sandbox.fusion.config import DEFAULT_SCOPE, FusionSandboxConfig
from oracle_mailchimp_dagster.sandbox.fusion.fault_pages import TOKEN_PATH
from oracle_mailchimp_dagster.sandbox.fusion.server import (
    ACCOUNTS_PATH,
    RunningFusionSandbox,
    start_fusion_sandbox,
)

__all__ = [
    "ACCOUNTS_PATH",
    "DEFAULT_SCOPE",
    "TOKEN_PATH",
    "ChangeRule",
    "FusionSandbox",
    "FusionSandboxConfig",
    "RunningFusionSandbox",
    "start_fusion_sandbox",
]
