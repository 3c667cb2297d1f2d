"""The two simulators for a benchmark run, each in a process of its own (`oracle-mailchimp sandbox serve`).

Only the standard library: the peers' harness (`benchmarks.peers.run`) starts them too, and never loads
the connector.
"""

import subprocess
import sys
import time
from pathlib import Path

START_TIMEOUT_S = 300.0


class SandboxProcesses:
    """The Oracle and the Mailchimp simulators, each in a process of its own (as the two services run on
    machines of their own): in one process they share one interpreter lock, so serving Oracle's pages
    would slow Mailchimp's answers whenever a sync reads and loads at once. Stopped like a process."""

    def __init__(self, customers: int, env_file: Path, latency: str) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []
        try:
            oracle = self._start(customers, env_file.with_suffix(".oracle"), latency)
            mailchimp = self._start(0, env_file.with_suffix(".mailchimp"), latency)
        except BaseException:
            self.terminate()
            raise
        lines = [k_v for k_v in oracle if k_v.startswith("ORACLE_")]
        lines += [k_v for k_v in mailchimp if k_v.startswith("MAILCHIMP_")]
        env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env_file.chmod(0o600)

    def _start(self, customers: int, env_file: Path, latency: str) -> list[str]:
        cli = Path(sys.executable).with_name("oracle-mailchimp")
        command = [str(cli), "sandbox", "serve", "--customers", str(customers), "--latency", latency]
        proc = subprocess.Popen([*command, "--env-file", str(env_file)], stdout=subprocess.DEVNULL)
        self._procs.append(proc)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (env_file.exists() and env_file.read_text().endswith("\n")):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.terminate()
                raise SystemExit("the sandbox did not start")
            time.sleep(0.1)  # polling for the env file, with a deadline
        return env_file.read_text().splitlines()

    def terminate(self) -> None:
        for proc in self._procs:
            proc.terminate()

    def wait(self, timeout: float) -> None:
        for proc in self._procs:
            proc.wait(timeout)


def start_sandbox(customers: int, env_file: Path, latency: str) -> SandboxProcesses:
    """Both simulators started, their settings in `env_file` (KEY=VALUE lines)."""
    return SandboxProcesses(customers, env_file, latency)
