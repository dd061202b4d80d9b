"""What the app factory builds once and every request uses: settings, Redis clients, queues."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from redis import Redis
from redis.commands.core import Script

from shared.core.connection import connect
from shared.core.settings import Settings
from shared.jobs.queue import JobQueue
from shared.messages import lua
from shared.messages.dead_letters import DeadLetters
from shared.messages.monitor import QueueMonitor
from shared.messages.periodic import Schedules
from shared.messages.queue import MessageQueue


@dataclass
class Services:
    """The app's Redis clients and the objects that work on the message queue and the job queue."""

    settings: Settings
    #: fila's own client (text; bytes that are not UTF-8 read as U+FFFD).
    redis: Redis
    #: RQ's client (bytes, as RQ needs).
    rq_redis: Redis
    #: The operators' sessions and the rate limits (bytes, as Flask-Session and the limiter need).
    sessions_redis: Redis
    messages: MessageQueue
    dead_letters: DeadLetters
    monitor: QueueMonitor
    jobs: JobQueue
    schedules: Schedules
    #: The bulk loader's SET-unless-another-type script (shared/messages/lua/bulk_set.lua).
    bulk_set: Script


def init_app(app: Flask, settings: Settings) -> Services:
    """Create the clients (they connect lazily) and attach them to the app."""
    client = connect(settings, name="fila-web", encoding_errors="replace")
    rq_client = connect(settings, decode=False, name="fila-web-rq")
    built = Services(settings=settings, redis=client, rq_redis=rq_client,
                     sessions_redis=connect(settings, decode=False, name="fila-web-sessions"),
                     messages=MessageQueue(client, settings), dead_letters=DeadLetters(client, settings),
                     monitor=QueueMonitor(client, settings),
                     jobs=JobQueue(rq_client, settings), schedules=Schedules(client, settings),
                     bulk_set=client.register_script(lua.BULK_SET))
    app.extensions["fila"] = built
    return built


def services() -> Services:
    """Return the current app's services."""
    built: Services = current_app.extensions["fila"]
    return built
