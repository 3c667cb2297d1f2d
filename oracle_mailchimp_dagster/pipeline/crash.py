"""Deliberate crash points for failure drills (set ORACLE_MAILCHIMP_CRASH_AT=<point>).

A crash between the Mailchimp writes and the ledger commit must leave the mark where it was so the
next run resends idempotently; the end-to-end tests and operators use this to prove it. Points:

- `before_commit`: before each chunk's commit (the first reached crashes);
- `after_chunk_commit`: after each chunk's commit; `after_chunk_commit@3` after the third only;
- `after_fields_commit`: after the members of one upsert batch sent while reading were recorded
  (`after_fields_commit@3`: the third such record); the chunk stops at its next batch or before its
  commit, every other chunk at its next record or commit.
"""

import os
import signal

ENV = "ORACLE_MAILCHIMP_CRASH_AT"


class DeliberateCrash(RuntimeError):
    """Raised at a crash point named in ORACLE_MAILCHIMP_CRASH_AT."""


def crash_point(name: str, occurrence: int | None = None) -> None:
    """`<name>` raises DeliberateCrash (the run fails cleanly); `kill:<name>` SIGKILLs this process, as
    an out-of-memory kill or a lost machine would (the chaos benchmark uses it). `<name>@<n>` fires
    only at the point's `n`th `occurrence` (counted by the caller)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    kill = wanted.startswith("kill:")
    point, _, at = wanted.removeprefix("kill:").partition("@")
    if point != name or (at and (occurrence is None or at.strip() != str(occurrence))):
        return
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)
    raise DeliberateCrash(f"deliberate crash at '{wanted.removeprefix('kill:')}' ({ENV} is set)")
