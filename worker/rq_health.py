"""`python -m worker.rq_health`: exit 0 when an RQ worker on this host has a live heartbeat (for HEALTHCHECK)."""

from __future__ import annotations

import socket
import sys

from rq import Worker

from shared.connection import connect
from shared.settings import Settings


def main() -> int:
    """Check RQ's worker registry for a worker of this host listening on fila's RQ queue."""
    settings = Settings.from_env()
    host = socket.gethostname()
    try:
        workers = Worker.all(connection=connect(settings, decode=False))
    except Exception as exc:
        print(f"unhealthy: redis: {exc}")
        return 1
    mine = [w for w in workers if w.hostname == host and settings.rq_queue in w.queue_names()]
    if not mine:
        print(f"unhealthy: no RQ worker of host {host} on queue {settings.rq_queue}")
        return 1
    print(f"healthy: {', '.join(w.name for w in mine)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
