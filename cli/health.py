"""`fila health worker|rq|http URL [--dashboard]`: exit 0 when a service is healthy (container healthchecks).

    worker   a message worker of this host has a fresh heartbeat in Redis
    rq       an RQ worker of this host is registered on fila's RQ queue
    http     URL answers 2xx; with --dashboard, as rq-dashboard's user (RQ_DASHBOARD_USERNAME and
             RQ_DASHBOARD_PASSWORD), so the check goes through the dashboard to Redis and back

A worker that is stuck or cut off from Redis stops beating, and turns unhealthy.
"""

from __future__ import annotations

import argparse
import base64
import socket
import sys
import time
import urllib.error
import urllib.request

from shared.core.connection import connect
from shared.core.settings import Settings
from shared.messages.monitor import QueueMonitor


def message_workers(settings: Settings, host: str) -> list[str]:
    """Return the names of this host's message workers with a fresh heartbeat."""
    workers = QueueMonitor(connect(settings), settings).workers()
    return [w["name"] for w in workers
            if w["host"] == host and w["state"] == "alive" and time.time() - w["heartbeat_at"] < settings.heartbeat_ttl]


def rq_workers(settings: Settings, host: str) -> list[str]:
    """Return the names of this host's RQ workers registered on fila's RQ queue."""
    from rq import Worker

    workers = Worker.all(connection=connect(settings, decode=False))
    return [w.name for w in workers if w.hostname == host and settings.job_queue_name in w.queue_names()]


def workers_alive(kind: str) -> int:
    """Print the verdict on this host's workers of a kind; return 0 when one is alive."""
    settings = Settings.from_env()
    host = socket.gethostname()
    label = "RQ worker" if kind == "rq" else "message worker"
    try:
        alive = (rq_workers if kind == "rq" else message_workers)(settings, host)
    except Exception as exc:
        print(f"unhealthy: redis: {exc}")
        return 1
    if not alive:
        print(f"unhealthy: no live {label} heartbeat from host {host}")
        return 1
    print(f"healthy: {', '.join(alive)}")
    return 0


def http_ok(url: str, dashboard: bool, timeout: float) -> int:
    """Print the verdict on a URL; return 0 when it answers 2xx."""
    request = urllib.request.Request(url)
    if dashboard:
        settings = Settings.from_env()
        pair = f"{settings.dashboard_username}:{settings.dashboard_password}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            print(f"healthy: {url} answered {reply.status}")
            return 0
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}")
        return 1


def main(argv: list[str] | None = None) -> int:
    """Check one service once."""
    parser = argparse.ArgumentParser(prog="fila health", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["worker", "rq", "http"])
    parser.add_argument("url", nargs="?", help="with http: the URL to probe")
    parser.add_argument("--dashboard", action="store_true", help="with http: authenticate as rq-dashboard's user")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_intermixed_args(argv)
    if args.kind == "http":
        if not args.url:
            parser.error("http needs a URL")
        return http_ok(args.url, args.dashboard, args.timeout)
    return workers_alive(args.kind)


if __name__ == "__main__":
    sys.exit(main())
