"""The console (`/painel`): queues, workers, results, jobs, dead letters, refreshed every second; forms to act."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, make_response, render_template, session

from shared.messages.handlers import explain
from web.access import Access, policy
from web.i18n import language
from web.services import services

bp = Blueprint("console", __name__)

#: Seconds of throughput the chart shows.
CHART_SECONDS = 120
#: Jobs listed per state.
JOBS_SHOWN = 8
#: Dead letters the page lists (the API pages through all of them).
DEAD_SHOWN = 50
#: Scheduled messages the page lists, the soonest first (GET /api/scheduled pages through all).
SCHEDULED_SHOWN = 20


@bp.route("/painel")
@policy(Access.ADMIN)
def page() -> Response:
    """Render the page (its script polls /api/painel).

    ---
    tags: [watch]
    responses:
      '200':
        description: The page.
        content:
          text/html:
            schema: {type: string}
    """
    settings = services().settings
    response = make_response(render_template(
        "console.html", queue=settings.queue_name, dashboard_url=settings.dashboard_url,
        commander_url=settings.commander_url, chart_seconds=CHART_SECONDS, user=session.get("user"),
        lab_problem=current_app.extensions.get("fila_lab_problem")))
    return response


@bp.get("/api/painel")
@policy(Access.ADMIN)
def snapshot() -> Response:
    """Return everything the page shows, in one answer.

    ---
    tags: [watch]
    responses:
      '200':
        description: The snapshot.
        content:
          application/json:
            schema:
              type: object
              required: [messages, queue, throughput, workers, results, rq, jobs, dead, scheduled, schedules, redis]
              properties:
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
                scheduled:
                  type: array
                  description: The soonest scheduled messages (GET /api/scheduled pages through all).
                  items: {type: object}
                schedules:
                  type: array
                  description: The periodic schedules (as GET /api/schedules).
                  items: {$ref: '#/components/schemas/Schedule'}
                redis: {$ref: '#/components/schemas/RedisMemory'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    monitor = services().monitor
    figures = monitor.figures()
    return jsonify({
        "messages": figures,
        "queue": figures,  # the former name of "messages", kept for one release
        "throughput": monitor.throughput(CHART_SECONDS),
        "workers": monitor.workers(),
        "results": [{**result, "summary": explain(result["result"], language())} for result in monitor.recent(10)],
        "rq": services().jobs.figures(),
        "jobs": services().jobs.recent(JOBS_SHOWN),
        "dead": services().dead_letters.page(DEAD_SHOWN),
        "scheduled": monitor.scheduled(SCHEDULED_SHOWN)[0],
        "schedules": services().schedules.listing(),
        "redis": monitor.memory(),
    })
