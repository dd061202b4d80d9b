"""Redis killed with SIGKILL under load, with AOF as shipped (`appendfsync everysec`) and with `always`.

Real processes: redis-server, the web under granian, two clients posting one message at a time.
Redis writes each command to its AOF (write(2)) before it answers; `everysec` fsyncs that file
once a second. So a crash of the Redis process (SIGKILL, an OOM kill, `docker kill`) loses no
acknowledged write, in either mode: the kernel holds what was written. What `everysec` can lose
is what the kernel had not yet put on disk when the whole machine stops (power, kernel panic,
the VM killed): about the last second of writes. A test here cannot stop the machine; it shows
the process crash, and docs/reliability.md says the rest.
"""

from __future__ import annotations

import signal
import threading
import time

import pytest
import requests

from shared.core.settings import Settings
from tests.support.polling import wait_for
from tests.support.processes import start_granian
from tests.support.redis_server import RedisServer, free_port

pytestmark = pytest.mark.slow


class Producer:
    """Post one message per request from two threads; remember each accepted id and when it was accepted."""

    def __init__(self, url: str):
        self.url, self.stop = url, threading.Event()
        self.accepted: list[tuple[float, str]] = []
        self.codes: dict[int, int] = {}
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def _run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            try:
                reply = session.post(f"{self.url}/api/messages", json={"body": "durante a queda"}, timeout=5)
                code = reply.status_code
            except requests.RequestException:
                code = 0
            self.codes[code] = self.codes.get(code, 0) + 1
            if code == 202:
                self.accepted.append((time.monotonic(), reply.json()["ids"][0]))

    def __enter__(self) -> Producer:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(10)


@pytest.mark.parametrize("fsync", ["everysec", "always"])
def test_sigkill_of_redis_under_load_loses_no_acknowledged_message(tmp_path, fsync):
    server = RedisServer(tmp_path / "redis", fsync=fsync).start()
    port = free_port()
    web = start_granian(Settings(redis_url=server.url, log_level="WARNING"), port, workers=2, threads=2)
    try:
        with Producer(f"http://127.0.0.1:{port}") as producer:
            wait_for(lambda: len(producer.accepted) >= 2000, timeout=60, message="producing")
            server.process.send_signal(signal.SIGKILL)  # as a crash: nothing flushed, nobody told
            server.process.wait()
            killed = time.monotonic()
            server.process = None
            server.start()
            back = len(producer.accepted)
            wait_for(lambda: len(producer.accepted) >= back + 200, timeout=30, message="accepting again")
        present = {entry.split('"id":"')[1][:26] for entry in server.client().lrange("fila", 0, -1)}
        accepted = [message_id for _, message_id in producer.accepted]
        lost = [message_id for message_id in accepted if message_id not in present]
        before_kill = sum(1 for at, _ in producer.accepted if at < killed)
        kept = len(present) - len(set(accepted) & present)  # answered 503 as Redis died, yet run and kept
        print(f"\nappendfsync {fsync}: {before_kill} accepted before the SIGKILL, {len(accepted)} in all, "
              f"{len(lost)} lost, {kept} kept though their answer was a 503; answers {producer.codes}")
        assert set(producer.codes) <= {202, 503}, producer.codes
        assert lost == []
        assert kept <= producer.codes.get(503, 0)  # at least once: only what got no 202 may be there unannounced
    finally:
        web.stop()
        server.stop()
