"""`python -m worker.health [--rq]`: exit 0 when a worker of this host has a live heartbeat in Redis.

For container healthchecks: the message worker's heartbeat hash, or (--rq) RQ's own worker
registry. A worker that is stuck or cut off from Redis stops beating, and turns unhealthy.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from rq import Worker

from shared.connection import connect
from shared.monitor import QueueMonitor
from shared.settings import Settings


def message_workers(settings: Settings, host: str) -> list[str]:
    """Return the names of this host's message workers with a fresh heartbeat."""
    workers = QueueMonitor(connect(settings), settings).workers()
    return [w["name"] for w in workers
            if w["host"] == host and time.time() - w["heartbeat_at"] < settings.heartbeat_ttl]


def rq_workers(settings: Settings, host: str) -> list[str]:
    """Return the names of this host's RQ workers registered on fila's RQ queue."""
    workers = Worker.all(connection=connect(settings, decode=False))
    return [w.name for w in workers if w.hostname == host and settings.rq_queue in w.queue_names()]


def main(argv: list[str] | None = None) -> int:
    """Print the verdict; exit 0 when healthy."""
    parser = argparse.ArgumentParser(prog="python -m worker.health", description=__doc__)
    parser.add_argument("--rq", action="store_true", help="check the RQ worker instead of the message worker")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    host = socket.gethostname()
    kind = "RQ worker" if args.rq else "message worker"
    try:
        alive = (rq_workers if args.rq else message_workers)(settings, host)
    except Exception as exc:
        print(f"unhealthy: redis: {exc}")
        return 1
    if not alive:
        print(f"unhealthy: no live {kind} heartbeat from host {host}")
        return 1
    print(f"healthy: {', '.join(alive)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
