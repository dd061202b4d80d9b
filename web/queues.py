"""Watch and steer the queues: figures of the message queue and the RQ queue, workers, history, pause and resume."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from web.access import Access, policy
from web.services import asked_queue, services
from web.validation import query_number

bp = Blueprint("queues", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

#: The most history one request returns: a day of minutes (what is kept).
HISTORY_MAX = 1440


@bp.get("/queues")
@policy(Access.PRODUCER)
def queues() -> Response:
    """Return each queue's length, in flight, done, dead, rate, oldest message's age and pause state; Redis' memory.

    ---
    tags: [watch]
    responses:
      '200':
        description: One entry per queue.
        content:
          application/json:
            schema:
              type: object
              required: [queues, redis]
              properties:
                queues:
                  type: array
                  description: The message queues (QUEUES, the default first), then the RQ queue.
                  items:
                    oneOf:
                    - {$ref: '#/components/schemas/QueueFigures'}
                    - {$ref: '#/components/schemas/JobQueueFigures'}
                redis: {$ref: '#/components/schemas/RedisMemory'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    figures = [queue.monitor.figures() for queue in services().queues.values()]
    return jsonify({"queues": [*figures, services().jobs.figures()], "redis": services().monitor.memory()})


@bp.get("/workers")
@policy(Access.PRODUCER)
def workers() -> Response:
    """Return the registered message workers: alive, or lost until a reaper takes what they held.

    ---
    tags: [watch]
    responses:
      '200':
        description: The workers.
        content:
          application/json:
            schema:
              type: object
              required: [workers]
              properties:
                workers:
                  type: array
                  items: {$ref: '#/components/schemas/Worker'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    return jsonify({"workers": services().monitor.workers()})


@bp.get("/history")
@policy(Access.PRODUCER)
def history() -> Response:
    """Return done, failed and dead per minute (`?minutes=`, 1-1440, default 60), oldest first.

    ---
    tags: [watch]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    - name: minutes
      in: query
      explode: false
      schema: {type: integer, minimum: 1, maximum: 1440, default: 60}
    responses:
      '200':
        description: One entry per minute.
        content:
          application/json:
            schema:
              type: object
              required: [queue, history]
              properties:
                queue: {type: string}
                history:
                  type: array
                  items:
                    type: object
                    required: [minute, done, failed, dead]
                    properties:
                      minute: {type: integer, description: The minute's start (seconds since the epoch).}
                      done: {type: integer, minimum: 0}
                      failed: {type: integer, minimum: 0}
                      dead: {type: integer, minimum: 0}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    minutes = query_number("minutes", 1, HISTORY_MAX, 60)
    queue = asked_queue()
    return jsonify({"queue": queue.messages.name, "history": queue.monitor.history(minutes)})


@bp.post("/queues/<name>/pause")
@policy(Access.ADMIN)
def pause(name: str) -> Response:
    """Pause the queue: workers finish what they hold and take nothing more; enqueueing goes on.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/QueueName'}
    responses:
      '200': {$ref: '#/components/responses/PauseState'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    services().queue(name).messages.pause()
    log.warning("queue %s paused", name)
    return jsonify({"queue": name, "paused": True})


@bp.post("/queues/<name>/resume")
@policy(Access.ADMIN)
def resume(name: str) -> Response:
    """Let workers take from the queue again.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/QueueName'}
    responses:
      '200': {$ref: '#/components/responses/PauseState'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    services().queue(name).messages.resume()
    log.warning("queue %s resumed", name)
    return jsonify({"queue": name, "paused": False})
