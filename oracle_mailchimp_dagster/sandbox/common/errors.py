"""Sandbox start-up errors, printed by the CLI as one line."""


class SandboxStartError(Exception):
    """The sandbox could not start (taken port, bad option)."""
