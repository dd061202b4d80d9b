"""The console (`/painel`): queues, workers, results, jobs, dead letters, refreshed every second; forms to act."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, make_response, render_template, session

from shared.messages.handlers import explain
from web.access import Access, policy
from web.i18n import language
from web.services import asked_queue, services

bp = Blueprint("console", __name__)

#: Seconds of throughput the chart shows.
CHART_SECONDS = 120
#: Jobs listed per state.
JOBS_SHOWN = 8
#: Dead letters the page lists (the API pages through all of them).
DEAD_SHOWN = 50
#: Dead-letter groups the page lists, the biggest first (GET /api/dead/groups lists up to 1,000).
GROUPS_SHOWN = 20
#: Scheduled messages the page lists, the soonest first (GET /api/scheduled pages through all).
SCHEDULED_SHOWN = 20


@bp.route("/painel")
@policy(Access.ADMIN)
def page() -> Response:
    """Render the page (its script polls /api/painel); `?queue=` chooses the queue it shows (a tab each).

    ---
    tags: [watch]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    responses:
      '200':
        description: The page.
        content:
          text/html:
            schema: {type: string}
      '404': {$ref: '#/components/responses/NotFound'}
    """
    settings = services().settings
    response = make_response(render_template(
        "console.html", queue=asked_queue().messages.name, queues=settings.queue_names,
        dashboard_url=settings.dashboard_url,
        commander_url=settings.commander_url, chart_seconds=CHART_SECONDS, user=session.get("user"),
        lab_problem=current_app.extensions.get("fila_lab_problem")))
    return response


@bp.get("/api/painel")
@policy(Access.ADMIN)
def snapshot() -> Response:
    """Return everything the page shows, in one answer: for the queue `?queue=` names (the default without one).

    ---
    tags: [watch]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    responses:
      '200':
        description: The snapshot.
        content:
          application/json:
            schema:
              type: object
              required: [messages, queue, queues, throughput, workers, results, rq, jobs, dead, dead_groups, scheduled,
                         schedules, redis]
              properties:
                queues:
                  type: array
                  description: Every named queue's name, waiting messages and pause state (the page's tabs).
                  items:
                    type: object
                    required: [name, length, paused]
                    properties:
                      name: {type: string}
                      length: {type: integer, minimum: 0}
                      paused: {type: boolean}
                messages: {$ref: '#/components/schemas/QueueFigures'}
                queue: {$ref: '#/components/schemas/QueueFigures', deprecated: true, description: The former name of
                    `messages` (a queue's name is a string everywhere else); it goes in the next release.}
                throughput:
                  type: array
                  items: {type: integer, minimum: 0}
                workers:
                  type: array
                  items: {$ref: '#/components/schemas/Worker'}
                results:
                  type: array
                  items: {$ref: '#/components/schemas/Message'}
                rq: {$ref: '#/components/schemas/JobQueueFigures'}
                jobs:
                  type: array
                  items: {type: object}
                dead:
                  type: array
                  items: {$ref: '#/components/schemas/DeadLetter'}
                dead_groups: {$ref: '#/components/schemas/DeadGroups'}
                scheduled:
                  type: array
                  description: The soonest scheduled messages (GET /api/scheduled pages through all).
                  items: {type: object}
                schedules:
                  type: array
                  description: The periodic schedules (as GET /api/schedules).
                  items: {$ref: '#/components/schemas/Schedule'}
                redis: {$ref: '#/components/schemas/RedisMemory'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    queue = asked_queue()
    monitor = queue.monitor
    figures = monitor.figures()
    groups, total = queue.dead_letters.group_list(GROUPS_SHOWN)
    return jsonify({
        "messages": figures,
        "queues": [each.monitor.glance() for each in services().queues.values()],
        "queue": figures,  # the former name of "messages", kept for one release
        "throughput": monitor.throughput(CHART_SECONDS),
        "workers": monitor.workers(),
        "results": [{**result, "summary": explain(result["result"], language())} for result in monitor.recent(10)],
        "rq": services().jobs.figures(),
        "jobs": services().jobs.recent(JOBS_SHOWN),
        "dead": queue.dead_letters.page(DEAD_SHOWN),
        "dead_groups": {"groups": groups, "total": total},
        "scheduled": monitor.scheduled(SCHEDULED_SHOWN)[0],
        "schedules": queue.schedules.listing(),
        "redis": monitor.memory(),
    })
