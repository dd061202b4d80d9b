"""A TCP proxy to Redis that loses replies on purpose: it forwards a chosen command, lets Redis run it, then
cuts the connection before the reply reaches the client (the reply is lost, the command is done)."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections import Counter

from tests.support.redis_server import free_port


def sha(script: str) -> bytes:
    """Return the SHA1 Redis names a script by (what EVALSHA carries)."""
    return hashlib.sha1(script.encode()).hexdigest().encode()


class CuttingProxy:
    """Listen on a free port, forward to Redis; cut after the next `budget[name]` calls of each armed script."""

    def __init__(self, redis_port: int, targets: dict[str, str]):
        self.redis_port = redis_port
        self.targets = {name: sha(script) for name, script in targets.items()}
        self.budget: Counter[str] = Counter()
        self.cuts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, name: str, times: int = 1) -> None:
        """Cut the replies of the next `times` calls of the script `name`."""
        with self.lock:
            self.budget[name] += times

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.redis_port))
            cut = threading.Event()
            threading.Thread(target=self._pipe, args=(client, upstream, cut, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, cut, False), daemon=True).start()

    def _victim(self, data: bytes) -> str | None:
        with self.lock:
            for name, digest in self.targets.items():
                if self.budget[name] and digest in data:
                    self.budget[name] -= 1
                    self.cuts[name] += 1
                    return name
        return None

    def _pipe(self, source: socket.socket, target: socket.socket, cut: threading.Event, from_client: bool) -> None:
        """Copy one direction; the client's side marks the connection cut as it forwards a victim, and the
        Redis side, seeing the mark, drops the reply it reads next and closes both ends instead."""
        try:
            while data := source.recv(1 << 16):
                if from_client and self._victim(data):
                    cut.set()
                    target.sendall(data)  # Redis gets the command and runs it
                    continue  # nothing more goes to Redis: the other direction closes the connection
                if cut.is_set() and not from_client:
                    break  # the reply: lost
                target.sendall(data)
        except OSError:
            pass
        for side in (source, target):
            try:
                side.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            side.close()

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
