"""A real Redis Cluster for the tests: three masters (no replicas) on free loopback ports, in a folder of
its own, made by `redis-server --cluster-enabled yes` and `redis-cli --cluster create`.

Its URL is the sales' form, redis+cluster://127.0.0.1:PORT (any node: the client finds the others).
"""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis
from redis.cluster import RedisCluster

from yakku.private_redis import free_port

MASTERS = 3
READY_TIMEOUT_S = 30.0


def _free_cluster_port() -> int:
    # A node also listens on its port + 10000 (the cluster bus): both must be free.
    for _ in range(50):
        port = free_port()
        if port + 10000 < 65536 and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class RedisTestCluster:
    """Three cluster-enabled redis-server children on loopback, joined into one cluster."""

    def __init__(self, directory: Path, masters: int = MASTERS):
        self.directory = Path(directory)
        self.ports = [_free_cluster_port() for _ in range(masters)]
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        """The sales Redis URL of this cluster."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start(self) -> "RedisTestCluster":
        """Start the nodes, hand out the 16384 slots among them, and wait until the cluster is ok."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not on PATH: the cluster tests need it")
        for port in self.ports:
            folder = self.directory / str(port)
            folder.mkdir(parents=True, exist_ok=True)
            self.processes.append(
                subprocess.Popen(_node_command(binary, port, folder), stdout=subprocess.DEVNULL)
            )
        for port in self.ports:
            _wait(lambda port=port: _node(port).ping(), f"node {port} to answer")
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=READY_TIMEOUT_S,
        )
        for port in self.ports:
            _wait(lambda port=port: _cluster_ok(port), f"node {port} to see the cluster ok")
        return self

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL) and remove its files."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []
        shutil.rmtree(self.directory, ignore_errors=True)

    def client(self) -> RedisCluster:
        """A cluster client of its own (strings decoded), for a test to look with."""
        return RedisCluster(host="127.0.0.1", port=self.ports[0], decode_responses=True)

    def port_of_key(self, key: str) -> int:
        """The port of the master that holds `key`'s slot, as the cluster itself says (CLUSTER SLOTS)."""
        node = _node(self.ports[0])
        slot = node.cluster("KEYSLOT", key)
        for start, end, master, *_replicas in node.cluster("SLOTS"):
            if start <= slot <= end:
                return int(master[1])
        raise AssertionError(f"no node holds slot {slot}")


def _node_command(binary: str, port: int, folder: Path) -> list[str]:
    return [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(folder),
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        f"nodes-{port}.conf",  # each node's own, in its own folder
        "--cluster-node-timeout",
        "5000",
        "--appendonly",
        "no",
        "--save",
        "",
    ]


def _node(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, decode_responses=True)


def _cluster_ok(port: int) -> bool:
    return _node(port).cluster("INFO").get("cluster_state") == "ok"  # redis-py parses it into a dict


def _wait(ready, what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except redis.RedisError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")
