"""Whether this process traces: on when an OTLP endpoint is set, off otherwise (OpenTelemetry not even imported).

A process starts tracing once, at its start (the web's app factory, a worker's main, the RQ
worker's settings module); what traces is shared/core/otel.py, loaded only then. Off, the hot
paths pay one `is None` test: no span, no `traceparent` in the envelope.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from shared.core.settings import Settings

if TYPE_CHECKING:
    from shared.core.otel import Tracing


class Service(StrEnum):
    """The service name a process's spans carry unless OTEL_SERVICE_NAME names one."""

    WEB = "fila-web"
    WORKER = "fila-worker"
    RQ_WORKER = "fila-rq-worker"


#: This process's tracing, once started (OpenTelemetry's tracer provider is one per process too).
_started: list[Tracing] = []


def start(settings: Settings, service: Service, instance: str = "") -> Tracing | None:
    """Start tracing in this process when an OTLP endpoint is set; return it (None: off). Idempotent.

    `instance` names this process among its service's (a worker's name).
    """
    if not settings.traces_endpoint:
        return None
    if not _started:
        from shared.core import otel

        _started.append(otel.Tracing.start(settings, service, instance))
    return _started[0]


def active() -> Tracing | None:
    """Return this process's tracing, if it was started (None: off)."""
    return _started[0] if _started else None
