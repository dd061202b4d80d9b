"""An OTLP/HTTP receiver for tests: what a collector does with `POST /v1/traces`, decoded with opentelemetry-proto.

fila's processes export to it over real HTTP, as they would to an OpenTelemetry Collector; the
test reads the spans it received.
"""

from __future__ import annotations

import gzip
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

KINDS = {ProtoSpan.SPAN_KIND_SERVER: "server", ProtoSpan.SPAN_KIND_CLIENT: "client",
         ProtoSpan.SPAN_KIND_PRODUCER: "producer", ProtoSpan.SPAN_KIND_CONSUMER: "consumer",
         ProtoSpan.SPAN_KIND_INTERNAL: "internal"}


@dataclass
class Span:
    """One span as the receiver got it."""

    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    error: bool = False
    events: list[str] = field(default_factory=list)
    #: The process's `service.instance.id` (a worker's name), if it gave one.
    instance: str = ""


def _value(any_value: Any) -> Any:
    return getattr(any_value, any_value.WhichOneof("value")) if any_value.WhichOneof("value") else None


def decode(payload: bytes) -> list[Span]:
    """Decode one export request into its spans."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(payload)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {attribute.key: _value(attribute.value) for attribute in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(Span(
                    str(resource.get("service.name")), span.name, KINDS.get(span.kind, str(span.kind)),
                    span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex(),
                    {attribute.key: _value(attribute.value) for attribute in span.attributes},
                    span.status.code == span.status.STATUS_CODE_ERROR, [event.name for event in span.events],
                    str(resource.get("service.instance.id") or "")))
    return spans


class Receiver:
    """A collector's OTLP/HTTP traces endpoint on 127.0.0.1 (`url` is what OTEL_EXPORTER_OTLP_ENDPOINT takes)."""

    def __init__(self, keep: bool = True, host: str = "127.0.0.1") -> None:
        """Listen on `host` (a container network's gateway, for containers); with `keep` off (a benchmark), spans
        are only counted by name: the receiver costs the machine little."""
        self.spans: list[Span] = []
        self.counts: Counter[str] = Counter()
        self.requests = 0
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    payload = gzip.decompress(payload)
                ok = self.path == "/v1/traces"
                if ok:
                    if keep:
                        received.spans.extend(decode(payload))
                    else:
                        received.count(payload)
                    received.requests += 1
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, payload: bytes) -> None:
        """Count the spans of one export request by name."""
        request = ExportTraceServiceRequest()
        request.ParseFromString(payload)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                self.counts.update(span.name for span in scope_spans.spans)

    def named(self, name: str, service: str | None = None) -> list[Span]:
        """Return the spans received so far of this name (and service)."""
        return [span for span in list(self.spans) if span.name == name and service in (None, span.service)]
