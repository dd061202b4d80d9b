"""What the app factory builds once and every request uses: settings and Redis clients."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import Flask, current_app

from shared.connection import connect
from shared.monitor import QueueMonitor
from shared.queue import MessageQueue
from shared.settings import Settings


@dataclass
class Fila:
    """The app's Redis clients and queue objects."""

    settings: Settings
    redis: redis.Redis
    rq_redis: redis.Redis
    queue: MessageQueue
    monitor: QueueMonitor


def init_app(app: Flask, settings: Settings) -> Fila:
    """Create the clients (they connect lazily) and attach them to the app."""
    client = connect(settings, name="fila-web")
    fila = Fila(settings=settings, redis=client, rq_redis=connect(settings, decode=False, name="fila-web-rq"),
                queue=MessageQueue(client, settings), monitor=QueueMonitor(client, settings))
    app.extensions["fila"] = fila
    return fila


def fila() -> Fila:
    """Return the current app's Fila."""
    return current_app.extensions["fila"]
