"""The real events process in a test: `yakku events` on a free port, asking the given shop for the end."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from process_helpers import YAKKU, Processes
from test_sale_recovery import process_env

from yakku.private_redis import free_port


@contextmanager
def events_process(
    config: dict, shop_url: str, log: Path, port: int = 0, metrics_port: int = 0, **settings
) -> Iterator[str]:
    """Its URL while it runs; `settings` are its YAKKU_EVENTS_* ones (EVENTS_MAX_LISTENERS="2", ...);
    its metrics on `metrics_port` (0: none)."""
    port = port or free_port()
    env = {**process_env(config, **settings), "PUBLIC_URL": shop_url}
    processes = Processes(env, log)
    command = [*YAKKU, "events", "--port", str(port), "--metrics-port", str(metrics_port)]
    processes.start("events", command)
    try:
        processes.wait_for("the events process listening", lambda: accepts(port))
        yield f"http://127.0.0.1:{port}"
    finally:
        processes.stop()


def accepts(port: int) -> bool:
    """Whether something listens on the loopback port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
