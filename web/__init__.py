"""fila's web producer: the handout's routes, the JSON API and the live page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from shared.core import logs, tracing
from shared.core.settings import Settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app; `config` may carry `SETTINGS` (a Settings) and Flask options."""
    from web import (
        access,
        api_docs,
        auth,
        body_limit,
        bulk,
        console,
        dead_letters,
        errors,
        experiments,
        handout,
        headers,
        health,
        i18n,
        jobs,
        kv,
        lab,
        messages,
        metrics,
        queues,
        scheduled,
        schedules,
        services,
        timeline,
        triage,
    )

    app = Flask(__name__)
    # A key with a "/" (`/set/a%2F/v`) must not become a redirect to another key (`/set/a/v`): no route, 404.
    app.url_map.merge_slashes = False
    options = dict(config or {})
    settings = options.pop("SETTINGS", None) or Settings.from_env()
    logs.configure(settings.log_level)
    app.config.update(MAX_CONTENT_LENGTH=settings.request_max_bytes)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # results keep their handler's order
    app.config.update(options)
    app.wsgi_app = body_limit.BodyLimit(app.wsgi_app, settings.request_max_bytes)  # type: ignore[method-assign]
    app.before_request(body_limit.refuse_too_large)
    traced = tracing.start(settings, tracing.Service.WEB)
    if traced is not None:
        traced.instrument(app)
    built = services.init_app(app, settings, traced)
    metrics.init_app(app, built)
    errors.register(app)
    headers.init_app(app)
    i18n.init_app(app, settings.language)
    lab.init_app(app, settings)  # before fila's own: a lab route of the same address wins
    for module in (handout, kv, messages, timeline, queues, scheduled, schedules, triage, dead_letters, jobs, bulk,
                   console, experiments, health, metrics, api_docs, auth):
        app.register_blueprint(module.bp)
    lab.report_overrides(app, settings)
    access.init_app(app, built)
    api_docs.init_app(app)  # last: it documents every route's access from the policy table
    return app


def create_dev_app() -> Any:
    """Build `make dev`'s app: fila's, built again in place whenever a file of the lab changes."""
    from web import lab

    settings = Settings.from_env()
    return lab.Reloading(lambda: create_app({"SETTINGS": settings}), lab.lab_dir(settings))
