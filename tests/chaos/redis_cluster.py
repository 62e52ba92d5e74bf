"""A throw-away Redis Cluster (3 masters, 3 replicas) the chaos tests may fail over and kill,
made as scripts/test makes the test run's: Debian's redis-server 7, `redis-cli --cluster
create`, on free loopback ports whose bus ports (+10000) are free too."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

SERVER = "/usr/bin/redis-server"
# How long a master may be silent before its replica takes over (scripts/test uses the same).
NODE_TIMEOUT_MS = 2000
READY_TIMEOUT_S = 60.0


def _free_cluster_port() -> int:
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if port > 55535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a cluster node")


class RedisCluster:
    """Six nodes; `start()` makes them one cluster and waits until every node agrees."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ports = [_free_cluster_port() for _ in range(6)]
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def start_node(self, port: int) -> None:
        node = self.directory / str(port)
        node.mkdir(parents=True, exist_ok=True)
        self.processes[port] = subprocess.Popen(
            [
                SERVER,
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(node / "nodes.conf"),
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(node),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self._answers(port):
            assert time.monotonic() < deadline, f"cluster node {port} did not start"
            time.sleep(0.05)

    def start(self) -> None:
        for port in self.ports:
            self.start_node(port)
        subprocess.run(
            [
                "redis-cli", "--cluster", "create",
                *(f"127.0.0.1:{p}" for p in self.ports),
                "--cluster-replicas", "1", "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=READY_TIMEOUT_S,
        )  # fmt: skip
        self.wait_healthy()

    def wait_healthy(self, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Until every running node sees all slots served and 3 masters; the seconds waited."""
        started = time.monotonic()
        while not all(self._ok(port) for port in self.processes):
            assert time.monotonic() - started < timeout_s, "the cluster did not become healthy"
            time.sleep(0.05)
        return time.monotonic() - started

    def masters(self) -> list[int]:
        return [p for p in self.processes if self.role(p) == "master"]

    def role(self, port: int) -> str:
        with self._client(port) as client:
            return str(client.execute_command("ROLE")[0].decode())

    def replica_of(self, master: int) -> int:
        """The port of the master's replica, once it has one in sync."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            with self._client(master) as client:
                replicas = client.execute_command("ROLE")[2]
            if replicas:
                return int(replicas[0][1])
            assert time.monotonic() < deadline, f"master {master} has no replica"
            time.sleep(0.05)

    def failover(self, replica: int) -> None:
        """CLUSTER FAILOVER: the replica and its master swap roles, with no write lost."""
        with self._client(replica) as client:
            client.execute_command("CLUSTER FAILOVER")

    def kill(self, port: int) -> None:
        """SIGKILL: the node is gone with whatever it had not replicated."""
        process = self.processes.pop(port)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for port in list(self.processes):
            with contextlib.suppress(ProcessLookupError):
                self.kill(port)

    def _client(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)

    def _answers(self, port: int) -> bool:
        try:
            with self._client(port) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def _ok(self, port: int) -> bool:
        try:
            with self._client(port) as client:
                info = client.cluster("info")
        except redis.RedisError:
            return False
        return bool(info["cluster_state"] == "ok" and int(info["cluster_size"]) == 3)
