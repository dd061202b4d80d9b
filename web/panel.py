"""The live page: queues, workers, results and jobs, refreshed every second, with forms to try things."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry

from web.context import fila
from web.jobs import queue, rq_figures, summarise

bp = Blueprint("panel", __name__)

#: Seconds of throughput the chart shows.
CHART_SECONDS = 120
#: Jobs listed per state.
JOBS_SHOWN = 8


@bp.route("/painel")
def page():
    """Render the page (its script polls /api/painel)."""
    settings = fila().settings
    response = render_template("painel.html", queue=settings.queue, dashboard_url=settings.dashboard_url,
                               commander_url=settings.commander_url, chart_seconds=CHART_SECONDS)
    return response, 200, {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                                      "frame-ancestors 'none'; form-action 'self'"}


def recent_jobs() -> list[dict]:
    """Return the latest RQ jobs: waiting, running, finished and failed, newest first."""
    q = queue()
    ids = [*q.get_job_ids(0, JOBS_SHOWN), *StartedJobRegistry(queue=q).get_job_ids(0, JOBS_SHOWN - 1),
           *FinishedJobRegistry(queue=q).get_job_ids(0, JOBS_SHOWN - 1, desc=True),
           *FailedJobRegistry(queue=q).get_job_ids(0, JOBS_SHOWN - 1, desc=True)]
    jobs = Job.fetch_many(ids, connection=fila().rq_redis, serializer=q.serializer)
    out = []
    for job in jobs:
        if job is None:
            continue
        status = job.get_status(refresh=False)
        result = job.return_value() if status == "finished" else None
        out.append({"id": job.id, "description": job.description, "status": status,
                    "ended_at": job.ended_at.isoformat() if job.ended_at else None, **summarise(result)})
    return out


@bp.get("/api/painel")
def snapshot():
    """Return everything the page shows, in one answer."""
    monitor = fila().monitor
    return jsonify({
        "queue": monitor.queue(),
        "throughput": monitor.throughput(CHART_SECONDS),
        "workers": monitor.workers(),
        "results": monitor.recent(10),
        "rq": rq_figures(fila()),
        "jobs": recent_jobs(),
    })
