"""A real Redis Cluster for the tests: three masters (and, if asked, a replica each) on free loopback
ports, in a folder of its own, made by `redis-server --cluster-enabled yes` and `redis-cli --cluster create`.

Its URL is the sales' form, redis+cluster://127.0.0.1:PORT,127.0.0.1:PORT,... (every node: a client made
while one is down starts from another).
A test can kill a node, or cut a replica off so that it falls behind, and wait for a failover.
"""

import shutil
import signal
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


def _free_cluster_ports(count: int) -> list[int]:
    """`count` free ports, none another's port or cluster bus port: the kernel may hand the same free
    port out twice in a row, and two nodes on one port make a cluster one node short."""
    ports: list[int] = []
    for _ in range(20 * count):
        taken = {used for port in ports for used in (port, port + 10000)}
        port = _free_cluster_port()
        if port not in taken and port + 10000 not in taken:
            ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError(f"no {count} distinct free port pairs for a cluster")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class RedisTestCluster:
    """Three cluster-enabled redis-server children on loopback, joined into one cluster; with
    `replicas=1`, three more, one replica of each master."""

    def __init__(
        self, directory: Path, masters: int = MASTERS, replicas: int = 0, node_timeout_ms: int = 5_000
    ):
        # node_timeout_ms: how long a node may not answer before the others count it failed.
        self.directory = Path(directory)
        self.replicas, self.node_timeout_ms = replicas, node_timeout_ms
        self.ports = _free_cluster_ports(masters * (1 + replicas))
        self.processes: list[subprocess.Popen] = []
        self.dead: set[int] = set()

    @property
    def url(self) -> str:
        """The sales Redis URL of this cluster, naming every node (so a process starts while one is down)."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def start(self) -> "RedisTestCluster":
        """Start the nodes, hand out the 16384 slots among them, and wait until the cluster is ok."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not on PATH: the cluster tests need it")
        for port in self.ports:
            folder = self.directory / str(port)
            folder.mkdir(parents=True, exist_ok=True)
            self.processes.append(
                subprocess.Popen(
                    _node_command(binary, port, folder, self.node_timeout_ms), stdout=subprocess.DEVNULL
                )
            )
        for port in self.ports:
            _wait(lambda port=port: _node(port).ping(), f"node {port} to answer")
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *nodes, "--cluster-yes"]
            + ["--cluster-replicas", str(self.replicas)],
            check=True,
            capture_output=True,
            timeout=READY_TIMEOUT_S,
        )
        for port in self.ports:
            _wait(lambda port=port: _cluster_ok(port), f"node {port} to see the cluster ok")
        for port in self.ports:
            _wait(lambda port=port: _in_step(port), f"node {port} to be in step with its master")
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

    def kill(self, port: int) -> None:
        """The node on `port` dies at once (SIGKILL), as a machine that loses its power."""
        process = self.processes[self.ports.index(port)]
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.dead.add(port)

    def cut_off(self, replica: int, master: int) -> None:
        """`replica` hears nothing more from `master` until thawed: it is stopped (SIGSTOP) and the master
        drops its link (what the master writes next is acknowledged to its clients all the same)."""
        self.processes[self.ports.index(replica)].send_signal(signal.SIGSTOP)
        _node(master).client_kill_filter(_type="replica")

    def thaw(self, port: int) -> None:
        self.processes[self.ports.index(port)].send_signal(signal.SIGCONT)

    def replica_of(self, master: int) -> int:
        """The port of `master`'s replica."""
        (replica,) = [
            port
            for port in self.live_ports
            if port != master
            for replication in [_node(port).info("replication")]
            if replication["role"] == "slave" and int(replication["master_port"]) == master
        ]
        return replica

    def in_step(self, master: int, timeout_ms: int = 5000) -> None:
        """Wait until `master`'s replica has every write the master acknowledged (WAIT)."""
        assert _node(master).execute_command("WAIT", 1, timeout_ms) == 1, f"{master}'s replica lags"

    def wait_for_master(self, key: str, port: int) -> None:
        """Wait until the node on `port` is the master of `key`'s slot and the cluster is ok again."""
        _wait(lambda: self.port_of_key(key) == port, f"{port} to take over {key!r}'s slot")
        for node in self.live_ports:
            _wait(lambda node=node: _cluster_ok(node), f"node {node} to see the cluster ok")

    @property
    def live_ports(self) -> list[int]:
        return [port for port in self.ports if port not in self.dead]

    def client(self) -> RedisCluster:
        """A cluster client of its own (strings decoded), for a test to look with."""
        return RedisCluster(host="127.0.0.1", port=self.live_ports[0], decode_responses=True)

    def port_of_key(self, key: str) -> int:
        """The port of the master that holds `key`'s slot, as the cluster itself says (CLUSTER SLOTS)."""
        node = _node(self.live_ports[0])
        slot = node.cluster("KEYSLOT", key)
        for start, end, master, *_replicas in node.cluster("SLOTS"):
            if start <= slot <= end:
                return int(master[1])
        raise AssertionError(f"no node holds slot {slot}")


def _node_command(binary: str, port: int, folder: Path, node_timeout_ms: int) -> list[str]:
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
        str(node_timeout_ms),
        # A replica takes over however long it was cut off from its master: the tests cut one off so that
        # it falls behind (the default, 10, keeps a replica cut off for 10 node timeouts from failing over).
        "--cluster-replica-validity-factor",
        "0",
        "--appendonly",
        "no",
        "--save",
        "",
    ]


def _node(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, decode_responses=True)


def _cluster_ok(port: int) -> bool:
    return _node(port).cluster("INFO").get("cluster_state") == "ok"  # redis-py parses it into a dict


def _in_step(port: int) -> bool:
    """A master, or a replica whose link to its master is up and synced."""
    replication = _node(port).info("replication")
    return replication["role"] == "master" or (
        replication.get("master_link_status") == "up" and not replication.get("master_sync_in_progress")
    )


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
