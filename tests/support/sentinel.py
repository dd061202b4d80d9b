"""A Sentinel-managed Redis on this machine for tests: a primary, a replica and three Sentinels, all real."""

from __future__ import annotations

import subprocess
from pathlib import Path

import redis

from cli.redis import find_redis_server
from tests.support.polling import wait_for
from tests.support.redis_server import LIVE, RedisServer, free_port

SERVICE = "fila"


class SentinelGroup:
    """Start, kill and ask a primary, its replica and three Sentinels (quorum 2, failover after 1 s down)."""

    def __init__(self, directory: Path, password: str = "segredo", sentinel_password: str = "sentinela"):
        self.directory = directory
        self.password = password
        self.sentinel_password = sentinel_password
        self.primary = RedisServer(directory / "primary", password=password, fsync="everysec")
        self.replica = RedisServer(directory / "replica", password=password, fsync="everysec")
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sentinels: list[subprocess.Popen[bytes]] = []

    def start(self) -> SentinelGroup:
        """Start everything and wait until the Sentinels agree on the primary and know the replica (or stop it all)."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> SentinelGroup:
        # Either may be demoted to a replica of the other: both authenticate to their primary.
        self.primary.extra = ["--masterauth", self.password]
        self.primary.start()
        self.replica.extra = ["--replicaof", "127.0.0.1", str(self.primary.port), "--masterauth", self.password]
        self.replica.start()
        for number, port in enumerate(self.sentinel_ports):
            self.start_sentinel(f"sentinel{number}", port, self.primary.port)
        def ready() -> bool:
            replica = self.primary.client().info("replication").get("slave0", {})
            return replica.get("state") == "online" and all(
                self.ask(port, "SENTINEL", "REPLICAS", SERVICE) for port in self.sentinel_ports)
        wait_for(ready, timeout=20, interval=0.1, message="the Sentinels to find the replica")
        return self

    def start_sentinel(self, name: str, port: int, primary_port: int, quorum: int = 2) -> None:
        """Start a Sentinel on `port` watching the Redis on `primary_port` as SERVICE."""
        binary = find_redis_server()
        assert binary
        folder = self.directory / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "sentinel.conf").write_text(
            f"port {port}\nbind 127.0.0.1\nrequirepass {self.sentinel_password}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} {quorum}\n"
            f"sentinel auth-pass {SERVICE} {self.password}\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\nsentinel failover-timeout {SERVICE} 5000\n")
        self.sentinels.append(subprocess.Popen([binary, str(folder / "sentinel.conf"), "--sentinel"],
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        LIVE.append(self.sentinels[-1])

    def ask(self, port: int, *command: str) -> object:
        client = redis.Redis(port=port, password=self.sentinel_password, decode_responses=True, socket_timeout=2)
        try:
            return client.execute_command(*command)
        finally:
            client.close()

    def primary_port(self) -> int:
        """Return the port the Sentinels give for the primary now."""
        _host, port = self.ask(self.sentinel_ports[0], "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)  # type: ignore[misc]
        return int(port)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://:{self.password}@{hosts}/{SERVICE}/0"

    def stop(self) -> None:
        for process in self.sentinels:
            if process.poll() is None:
                process.kill()
            process.wait()
        self.primary.stop()
        self.replica.stop()
