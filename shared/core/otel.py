"""fila's spans, on OpenTelemetry's SDK: loaded only when tracing is on (shared/core/tracing.py).

One trace follows a message across the hop: the web's request span (Flask's instrumentation,
continuing an incoming W3C `traceparent`) holds a `fila send <queue>` span around the enqueue;
that span's `traceparent` rides in each envelope (shared/messages/envelope.py), and each attempt
a worker makes is a `fila process <queue>` span, its child. An RQ job carries it in its meta.
Redis calls made inside those spans are theirs (the Redis instrumentation); a Redis call made
outside any (a worker's idle wait) starts no trace: see OwnRoots.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult, TraceIdRatioBased
from opentelemetry.trace import Link, Span, SpanKind, format_trace_id
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes, AttributeValue

from shared.core.settings import Settings
from shared.core.tracing import Service

if TYPE_CHECKING:
    from flask import Flask  # the web's only: the worker's image has no Flask

log = logging.getLogger(__name__)

#: What fila's own spans' names start with (and the tracer's name).
PREFIX = "fila"
PREFIX_ = f"{PREFIX} "
#: Spans are sent in batches at least this often (the SDK's default is 5 s: a lab wants them sooner).
EXPORT_DELAY_MS = 1000
#: Seconds one export may take before it is given up (its spans dropped, the process unaffected).
EXPORT_TIMEOUT_S = 5.0
#: Routes no trace is worth starting for: scrapes, probes, static files.
UNTRACED_URLS = "/metrics$,/healthz$,/readyz$,/static/"
_PROPAGATOR = TraceContextTextMapPropagator()
#: The last hex digit of a `traceparent` whose trace is not kept (its flags' lowest bit, `sampled`, clear).
_NOT_SAMPLED = frozenset("02468ace")
#: What a message sent in a trace that is not kept carries instead of a `traceparent`: the decision, in
#: 12 bytes of envelope rather than 66 (the worker makes no span for it either way).
NOT_KEPT = "-"


class OwnRoots(Sampler):
    """Start a trace for a request or for fila's own span (a share of them, by trace id), never for a Redis call alone.

    A worker waiting for messages calls Redis all the time outside any span: each would be a
    trace of its own. Inside a span, everything follows its decision (ParentBased): a message's
    attempts are traced when the request that sent it was.
    """

    def __init__(self, ratio: float = 1.0):
        self.ratio = TraceIdRatioBased(ratio)

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str,
                      kind: SpanKind | None = None, attributes: Attributes = None,
                      links: Sequence[Link] | None = None, trace_state: TraceState | None = None) -> SamplingResult:
        """Keep a server span or one of fila's (by the ratio), drop any other root."""
        if kind is SpanKind.SERVER or name.startswith(PREFIX_):
            return self.ratio.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)
        return _DROPPED

    def get_description(self) -> str:
        """Name this sampler."""
        return f"OwnRoots{{{self.ratio.rate}}}"


_DROPPED = SamplingResult(Decision.DROP)


def exporter_headers(raw: str) -> dict[str, str]:
    """Read OTEL_EXPORTER_OTLP_HEADERS (`name=value,name2=value2`); a piece without `=` is refused."""
    headers = {}
    for piece in raw.split(","):
        if piece.strip():
            name, equals, value = piece.partition("=")
            if not equals or not name.strip():
                raise ValueError(f"OTEL_EXPORTER_OTLP_HEADERS: {piece.strip()[:40]!r} is not name=value")
            headers[name.strip()] = value.strip()
    return headers


class Tracing:
    """This process's tracer and the spans fila makes with it."""

    def __init__(self, provider: TracerProvider, service: str, endpoint: str):
        self.provider = provider
        self.service = service
        self.endpoint = endpoint
        self.tracer = provider.get_tracer(PREFIX)

    @classmethod
    def start(cls, settings: Settings, service: Service, instance: str = "",
              exporter: SpanExporter | None = None) -> Tracing:
        """Build the tracer provider (OTLP over HTTP to the settings' endpoint), set it, instrument Redis.

        `instance` names this process among its service's (a worker's name): `service.instance.id`.
        """
        endpoint = settings.traces_endpoint
        name = settings.otel_service_name or service.value
        resource = Resource.create({"service.name": name, **({"service.instance.id": instance} if instance else {})})
        provider = TracerProvider(resource=resource, sampler=ParentBased(OwnRoots(settings.otel_sample_ratio)))
        provider.add_span_processor(BatchSpanProcessor(
            exporter or OTLPSpanExporter(endpoint=endpoint, headers=exporter_headers(settings.otel_headers),
                                         timeout=EXPORT_TIMEOUT_S),
            schedule_delay_millis=EXPORT_DELAY_MS))
        trace.set_tracer_provider(provider)
        RedisInstrumentor().instrument(tracer_provider=provider)
        log.info("traces on: %s sends %s of its new traces to %s", name, f"{settings.otel_sample_ratio:.0%}",
                 endpoint)
        return cls(provider, name, endpoint)

    def instrument(self, app: Flask) -> None:
        """Give each request a server span (continuing the caller's `traceparent`), as Flask's instrumentation does."""
        from opentelemetry.instrumentation.flask import FlaskInstrumentor

        FlaskInstrumentor.instrument_app(app, tracer_provider=self.provider,  # type: ignore[no-untyped-call]
                                         excluded_urls=UNTRACED_URLS, enable_commenter=False)

    @contextmanager
    def sending(self, queue: str, count: int, system: str = "fila") -> Iterator[tuple[str, str]]:
        """Span an enqueue of `count` messages; yield what they carry and the trace's id.

        They carry the `traceparent` and the id is the trace's when the trace is kept; otherwise
        NOT_KEPT and "".
        """
        attributes: Mapping[str, AttributeValue] = {
            "messaging.system": system, "messaging.operation.type": "send", "messaging.destination.name": queue,
            "messaging.batch.message_count": count}
        with self.tracer.start_as_current_span(f"{PREFIX_}send {queue}", kind=SpanKind.PRODUCER,
                                               attributes=attributes) as span:
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier)
            if span.get_span_context().trace_flags.sampled:
                yield carrier.get("traceparent", ""), format_trace_id(span.get_span_context().trace_id)
            else:
                yield NOT_KEPT, ""

    def processing(self, queue: str, message_id: str, traceparent: str, attempt: int,
                   system: str = "fila") -> AbstractContextManager[Span | None]:
        """Span one attempt at a message, as a child of the span that sent it (a new trace for a raw LPUSH).

        A message sent in a trace that is not kept (NOT_KEPT, or a `traceparent` whose flags say so)
        costs no span at all.
        """
        if traceparent[-1:] in _NOT_SAMPLED or traceparent == NOT_KEPT:
            return nullcontext()
        parent = _PROPAGATOR.extract({"traceparent": traceparent}, context=Context()) if traceparent else Context()
        return self.tracer.start_as_current_span(
            f"{PREFIX_}process {queue}", context=parent, kind=SpanKind.CONSUMER,
            attributes={"messaging.system": system, "messaging.operation.type": "process",
                        "messaging.destination.name": queue, "messaging.message.id": message_id,
                        "fila.attempt": attempt})

    def flush(self) -> None:
        """Send what is buffered now (an RQ work horse ends with os._exit: its spans would be lost)."""
        self.provider.force_flush(int(EXPORT_TIMEOUT_S * 1000))

    def stop(self) -> None:
        """Send what is buffered and stop exporting (a warm stop)."""
        self.provider.shutdown()
