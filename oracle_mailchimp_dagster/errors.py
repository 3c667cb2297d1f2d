"""Errors meant for a person: the CLI prints them as one line and exits non-zero."""


class UserError(Exception):
    """A problem the user can fix (bad flag, bad config, unreachable service); never a traceback."""

    exit_code = 2
