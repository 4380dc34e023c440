"""The platform's real processes in a test: started by name, their output in one log, waited on while they
run, and stopped as `yakku up` stops them.

    processes = Processes(process_env(config), tmp_path / "processes.log")
    processes.start("admitter", [*YAKKU, "admitter"])
    processes.wait_for("a lease", lambda: redis.exists(ADMITTER_LEASE))
    processes.stop()
"""

import subprocess
import sys
import time
from pathlib import Path

YAKKU = [sys.executable, "-c", "from yakku.cli import main; main()"]  # the `yakku` CLI of this venv
STOP_S = 20.0  # SIGTERM, then SIGKILL to a process still running after this


class Processes:
    """Named processes started with one environment, their output in one log file."""

    def __init__(self, env: dict, log: Path, timeout: float = 60.0):
        self.env, self.log, self.timeout = env, log, timeout
        self.running: dict[str, subprocess.Popen] = {}

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def start(self, name: str, command: list[str]) -> None:
        with self.log.open("ab") as out:  # the child writes on its own copy of the file
            self.running[name] = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def wait_for(self, what: str, ready, every: float = 0.2) -> None:
        """Until ready() is true; fails, with their output, if one of them exits first or time runs out."""
        deadline = time.monotonic() + self.timeout
        while not ready():
            stopped = {name: p.returncode for name, p in self.running.items() if p.poll() is not None}
            assert not stopped, f"{stopped} exited while waiting for {what}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {what} within {self.timeout}s:\n{self.output}"
            time.sleep(every)

    def stop(self) -> None:
        """SIGTERM to each (they stop gracefully), SIGKILL to what is still running after STOP_S."""
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            try:
                process.wait(STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.running.clear()
