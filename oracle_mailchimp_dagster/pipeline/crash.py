"""Deliberate crash points for failure drills (set ORACLE_MAILCHIMP_CRASH_AT=<point>).

A crash between the Mailchimp writes and the ledger commit must leave the mark where it was so the
next run resends idempotently; the end-to-end tests and operators use this to prove it.
"""

import os
import signal

ENV = "ORACLE_MAILCHIMP_CRASH_AT"


class DeliberateCrash(RuntimeError):
    """Raised at a crash point named in ORACLE_MAILCHIMP_CRASH_AT."""


def crash_point(name: str) -> None:
    """`<name>` raises DeliberateCrash (the run fails cleanly); `kill:<name>` SIGKILLs this process, as
    an out-of-memory kill or a lost machine would (the chaos benchmark uses it)."""
    wanted = os.environ.get(ENV)
    if wanted == name:
        raise DeliberateCrash(f"deliberate crash at '{name}' ({ENV} is set)")
    if wanted == f"kill:{name}":
        os.kill(os.getpid(), signal.SIGKILL)
