"""The console (`/painel`): queues, workers, results, jobs, dead letters, refreshed every second; forms to act."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, make_response, render_template, session

from web.access import Access, policy
from web.services import services

bp = Blueprint("console", __name__)

#: Seconds of throughput the chart shows.
CHART_SECONDS = 120
#: Jobs listed per state.
JOBS_SHOWN = 8
#: Dead letters the page lists (the API pages through all of them).
DEAD_SHOWN = 50


@bp.route("/painel")
@policy(Access.ADMIN)
def page() -> Response:
    """Render the page (its script polls /api/painel)."""
    settings = services().settings
    response = make_response(render_template(
        "console.html", queue=settings.queue_name, dashboard_url=settings.dashboard_url,
        commander_url=settings.commander_url, chart_seconds=CHART_SECONDS, user=session.get("user")))
    return response


@bp.get("/api/painel")
@policy(Access.ADMIN)
def snapshot() -> Response:
    """Return everything the page shows, in one answer."""
    monitor = services().monitor
    figures = monitor.figures()
    return jsonify({
        "messages": figures,
        "queue": figures,  # the former name of "messages", kept for one release
        "throughput": monitor.throughput(CHART_SECONDS),
        "workers": monitor.workers(),
        "results": monitor.recent(10),
        "rq": services().jobs.figures(),
        "jobs": services().jobs.recent(JOBS_SHOWN),
        "dead": services().dead_letters.page(DEAD_SHOWN),
        "redis": monitor.memory(),
    })
