"""`python -m worker.health`: exit 0 when a worker on this host has a live heartbeat (for HEALTHCHECK)."""

from __future__ import annotations

import socket
import sys
import time

from shared.connection import connect
from shared.monitor import QueueMonitor
from shared.settings import Settings


def main() -> int:
    """Check the heartbeat of this host's worker in Redis."""
    settings = Settings.from_env()
    host = socket.gethostname()
    try:
        workers = QueueMonitor(connect(settings), settings).workers()
    except Exception as exc:
        print(f"unhealthy: redis: {exc}")
        return 1
    mine = [w for w in workers if w["host"] == host and time.time() - w["heartbeat_at"] < settings.heartbeat_ttl]
    if not mine:
        print(f"unhealthy: no live worker heartbeat from host {host}")
        return 1
    print(f"healthy: {', '.join(w['name'] for w in mine)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
