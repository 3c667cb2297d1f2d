"""Run one command and write its own wall time and peak RSS to a JSON file (standard library only).

    python benchmarks/peers/measure.py --out usage.json --timeout 3600 -- drt run --output json

Why a wrapper: Linux carries a process's peak RSS across fork and exec, so a tool started straight
from the harness (a Python with Dagster loaded) would report the harness's peak as its own. This small
process forks a copy of itself (a few MiB), execs the tool there and reads that child's rusage.
"""

import argparse
import json
import os
import signal
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --")
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    _, status, usage = os.wait4(pid, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    report = {
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall_seconds": round(time.monotonic() - started, 1),
        "peak_memory_mib": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
    }
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(report, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
