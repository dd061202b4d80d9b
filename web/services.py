"""What the app factory builds once and every request uses: settings, Redis clients, queues."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, request
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
from shared.messages.story import locate
from web.errors import refuse

if TYPE_CHECKING:
    from shared.core.otel import Tracing


@dataclass(frozen=True)
class QueueServices:
    """What works on one named message queue: its settings, its list, its dead letters, its figures, its schedules."""

    settings: Settings
    messages: MessageQueue
    dead_letters: DeadLetters
    monitor: QueueMonitor
    schedules: Schedules

    @classmethod
    def build(cls, client: Redis, settings: Settings, traced: Tracing | None = None) -> QueueServices:
        """Build the objects of one queue (its settings already those of the queue; `traced`: tracing is on)."""
        return cls(settings, MessageQueue(client, settings, traced), DeadLetters(client, settings),
                   QueueMonitor(client, settings), Schedules(client, settings))


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
    #: Every named queue (QUEUES), the default first; the fields above are the default queue's.
    queues: dict[str, QueueServices]
    #: This process's tracing, when an OTLP endpoint is set (shared/core/tracing.py).
    tracing: Tracing | None = None

    def queue(self, name: str | None) -> QueueServices:
        """Return a named queue's services (None: the default queue); 404 for a name QUEUES does not declare."""
        if name is None:
            return next(iter(self.queues.values()))
        found = self.queues.get(name)
        if found is None:
            refuse(404, "unknown_queue", f"no message queue is named {name[:100]!r}: this fila's are "
                                         f"{', '.join(self.queues)}", queue=name[:100])
        return found


    def find(self, message_id: str) -> dict[str, Any] | None:
        """Return where a message is now (GET /api/messages/<id>) with its queue; None when no queue knows it."""
        return locate((queue.monitor for queue in self.queues.values()), message_id)


def init_app(app: Flask, settings: Settings, traced: Tracing | None = None) -> Services:
    """Create the clients (they connect lazily) and attach them to the app (`traced`: tracing is on)."""
    client = connect(settings, name="fila-web", encoding_errors="replace")
    rq_client = connect(settings, decode=False, name="fila-web-rq")
    queues = {name: QueueServices.build(client, settings.for_queue(name), traced) for name in settings.queue_names}
    default = queues[settings.default_queue]
    built = Services(settings=settings, redis=client, rq_redis=rq_client,
                     sessions_redis=connect(settings, decode=False, name="fila-web-sessions"),
                     messages=default.messages, dead_letters=default.dead_letters, monitor=default.monitor,
                     jobs=JobQueue(rq_client, settings, traced), schedules=default.schedules,
                     bulk_set=client.register_script(lua.BULK_SET), queues=queues, tracing=traced)
    app.extensions["fila"] = built
    return built


def asked_queue() -> QueueServices:
    """Return the queue the request's `?queue=` names (the default queue without one; 404 for an unknown name)."""
    return services().queue(request.args.get("queue"))


def services() -> Services:
    """Return the current app's services."""
    built: Services = current_app.extensions["fila"]
    return built
