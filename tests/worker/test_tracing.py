"""Traces across the hop, on real processes: granian's web, a message worker and an RQ worker export over OTLP/HTTP
to a receiver in the test (tests/support/otlp.py), as they would to an OpenTelemetry Collector."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
import requests

from shared.core import otel, tracing
from shared.core.settings import Settings
from tests.support.otlp import Receiver, Span
from tests.support.polling import wait_for
from tests.support.processes import ROOT, child_env, start_granian, start_rq_worker, start_worker
from tests.support.redis_server import free_port
from tests.worker.test_workers import all_done

pytestmark = pytest.mark.slow

#: The caller's trace: what a service in front of fila sends in `traceparent`.
CALLER_TRACE, CALLER_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def only(spans: list[Span]) -> Span:
    """Return the one span of a list (fail with the list otherwise)."""
    assert len(spans) == 1, spans
    return spans[0]


def test_a_message_is_one_trace_from_the_callers_request_to_each_attempt_of_the_worker(settings, rdb):
    with Receiver() as receiver:
        traced = dataclasses.replace(settings, otel_endpoint=receiver.url, handler="tests.support.handlers:poison",
                                     max_attempts=2, retry_base_ms=0)
        port = free_port()
        web = start_granian(traced, port, workers=1, threads=2)
        worker = start_worker(traced, "--name", "w-traced")
        try:
            answer = requests.post(f"http://127.0.0.1:{port}/api/messages", timeout=10,
                                   json=[{"body": {"text": "olá"}}, {"body": {"poison": "raise"}}],
                                   headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"})
            assert answer.status_code == 202, answer.text
            good, poisoned = answer.json()["ids"]
            raw = requests.get(f"http://127.0.0.1:{port}/push/fila/cru", timeout=10)  # the handout's LPUSH
            assert raw.status_code == 200
            wait_for(lambda: len(receiver.named("fila process fila")) == 4, timeout=20,
                     message="four attempts traced: one done, two failed, one raw entry")
            timeline = requests.get(f"http://127.0.0.1:{port}/api/messages/{good}/timeline", timeout=10).json()
            metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        finally:
            assert worker.stop() == 0  # a warm stop sends what is buffered
            web.stop()

    request = only([span for span in receiver.spans if span.kind == "server" and span.trace_id == CALLER_TRACE])
    assert (request.service, request.parent_id) == ("fila-web", CALLER_SPAN)  # the caller's trace, continued
    assert request.attributes["http.route"] == "/api/messages"
    send = only(receiver.named("fila send fila"))
    assert (send.service, send.kind, send.trace_id, send.parent_id) == ("fila-web", "producer", CALLER_TRACE,
                                                                        request.span_id)
    assert (send.attributes["messaging.destination.name"], send.attributes["messaging.batch.message_count"]) == (
        "fila", 2)
    # The ENQUEUE script's call is the send span's (Redis' instrumentation; its arguments are not recorded).
    enqueue = [span for span in receiver.spans if span.parent_id == send.span_id and span.kind == "client"]
    statements = [span.attributes["db.statement"].split() for span in enqueue]
    assert ["EVALSHA", *["?"] * 15] in statements  # the 7 keys and 8 arguments of ENQUEUE, none of them shown
    assert not any("fila" in word or "{" in word for words in statements for word in words)  # no key, no envelope
    assert not any("olá" in str(span.attributes) for span in receiver.spans)

    attempts = {(span.attributes["messaging.message.id"], span.attributes["fila.attempt"]): span
                for span in receiver.named("fila process fila", "fila-worker")}
    assert {(good, 1), (poisoned, 1), (poisoned, 2)} <= set(attempts)
    for (message_id, _attempt), span in attempts.items():
        if message_id in (good, poisoned):  # each attempt is a child of the span that sent it
            assert (span.kind, span.trace_id, span.parent_id) == ("consumer", CALLER_TRACE, send.span_id)
            assert span.instance == "w-traced"  # the worker's name: its service.instance.id
    assert not attempts[(good, 1)].error
    assert all(attempts[(poisoned, n)].error and "exception" in attempts[(poisoned, n)].events for n in (1, 2))
    # The handout's raw LPUSH carried nothing: its attempt starts a trace of its own.
    (raw_span,) = [span for (message_id, _), span in attempts.items() if message_id not in (good, poisoned)]
    assert raw_span.parent_id == "" and raw_span.trace_id != CALLER_TRACE
    # The worker's idle waits (BLMOVE, its heartbeat, its reaper) started no trace: every span it sent is an
    # attempt or inside one.
    worker_spans = [span for span in receiver.spans if span.service == "fila-worker"]
    assert {span.trace_id for span in worker_spans} == {CALLER_TRACE, raw_span.trace_id}
    assert all(span.name == "fila process fila" or span.parent_id for span in worker_spans)
    # The timeline names the trace: from the console or fila explain to the tracing backend.
    assert timeline["steps"][0]["step"] == "enqueued" and timeline["steps"][0]["trace"] == CALLER_TRACE
    assert f"trace {CALLER_TRACE}" in timeline["steps"][0]["says"]
    assert "\nfila_tracing_enabled 1.0\n" in metrics


def test_traces_not_kept_cost_the_worker_no_span_and_the_timeline_names_none(settings, rdb):
    with Receiver() as receiver:
        traced = dataclasses.replace(settings, otel_endpoint=receiver.url, otel_sample_ratio=0.0)
        port = free_port()
        web = start_granian(traced, port, workers=1, threads=2)
        worker = None
        try:
            answer = requests.post(f"http://127.0.0.1:{port}/api/messages", json=[{"body": 1}, {"body": 2}],
                                   timeout=10)
            ids = answer.json()["ids"]
            assert requests.get(f"http://127.0.0.1:{port}/push/fila/cru", timeout=10).status_code == 200
            # The web decided not to keep the request's trace: its messages carry that decision, in a byte.
            carried = [json.loads(entry).get("trace", "") for entry in rdb.lrange("fila", 0, -1) if "{" in entry]
            assert carried == [otel.NOT_KEPT] * 2
            worker = start_worker(traced)
            wait_for(lambda: all_done(rdb, ids) and rdb.llen("fila") == 0, timeout=15, message="all done")
            timeline = requests.get(f"http://127.0.0.1:{port}/api/messages/{ids[0]}/timeline", timeout=10).json()
        finally:
            assert worker is not None and worker.stop() == 0  # a warm stop sends whatever it buffered
            web.stop()
    # The request's trace was not kept (a share of 0): neither were its messages' attempts, nor the raw entry's.
    assert receiver.spans == [] and "trace" not in timeline["steps"][0]


def test_a_fibonacci_job_is_traced_from_the_request_into_the_rq_work_horse(settings, rdb):
    with Receiver() as receiver:
        traced = dataclasses.replace(settings, otel_endpoint=receiver.url)
        port = free_port()
        web = start_granian(traced, port, workers=1, threads=2)
        rq_worker = start_rq_worker(traced)
        try:
            answer = requests.post(f"http://127.0.0.1:{port}/api/jobs/fib", json={"n": 30}, timeout=10)
            assert answer.status_code == 202, answer.text
            job_id = answer.json()["id"]
            name = f"fila process {settings.job_queue_name}"
            job_span = wait_for(lambda: receiver.named(name), timeout=20, message="the job's span")[0]
        finally:
            rq_worker.stop()
            web.stop()
    send = only(receiver.named(f"fila send {settings.job_queue_name}"))
    request = only([span for span in receiver.spans if span.kind == "server"])
    assert (send.parent_id, send.trace_id, send.attributes["messaging.system"]) == (request.span_id,
                                                                                    request.trace_id, "rq")
    assert (job_span.service, job_span.kind, job_span.trace_id, job_span.parent_id) == (
        "fila-rq-worker", "consumer", send.trace_id, send.span_id)
    assert (job_span.attributes["messaging.message.id"], job_span.attributes["fila.attempt"]) == (job_id, 1)
    # The job's own Redis call (the SET of fib:30) is the job span's.
    assert any(span.parent_id == job_span.span_id and span.attributes.get("db.statement", "").startswith("SET")
               for span in receiver.spans)


def test_with_no_endpoint_nothing_is_loaded_nor_carried(settings, client, rdb):
    # Off, the envelope is what it always was: no "trace".
    assert client.post("/api/messages", json={"body": 1}).status_code == 202
    (entry,) = rdb.lrange("fila", 0, -1)
    assert '"trace"' not in entry and json.loads(entry)["body"] == 1
    assert "\nfila_tracing_enabled 0.0\n" in client.get("/metrics").get_data(as_text=True)
    # Neither the web, nor a worker, nor the RQ worker loads fila's tracing, an exporter or an instrumentation: no
    # provider is set, no Redis call is wrapped. (redis-py itself imports OpenTelemetry's API when it is installed,
    # for its own metrics, off unless initialised: its per-command check is the same with or without it.)
    code = ("import sys\n"
            "from web import create_app\n"
            "from worker.consumer import Consumer\n"
            "from shared.core.connection import connect\n"
            "from shared.core.settings import Settings\n"
            "import redis\n"
            "settings = Settings.from_env()\n"
            "create_app({'SETTINGS': settings})\n"
            "Consumer(connect(settings), settings)\n"
            "import shared.jobs.rq_config\n"
            "from opentelemetry import trace\n"
            "print(sorted(m for m in sys.modules if m.startswith(('shared.core.otel', 'opentelemetry.exporter', "
            "'opentelemetry.instrumentation'))), type(trace.get_tracer_provider()).__name__, "
            "hasattr(redis.Redis.execute_command, '__wrapped__'))\n")
    loaded = subprocess.run([sys.executable, "-c", code], env=child_env(settings), cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=True).stdout.strip().splitlines()[-1]
    assert loaded == "[] ProxyTracerProvider False"


def test_the_otlp_settings_follow_opentelemetrys_rules_and_refuse_what_fila_cannot_send():
    assert Settings().traces_endpoint == ""
    assert Settings(otel_endpoint="http://collector:4318/").traces_endpoint == "http://collector:4318/v1/traces"
    assert Settings(otel_endpoint="http://a:4318", otel_traces_endpoint="https://b/t").traces_endpoint == "https://b/t"
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    with pytest.raises(ValueError, match="http/protobuf only"):
        Settings.from_env(environ)
    with pytest.raises(ValueError, match="a share between 0 and 1"):
        Settings.from_env({"OTEL_TRACES_SAMPLER_ARG": "1.5"})
    with pytest.raises(ValueError, match="an http:// or https:// URL"):
        Settings.from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"})
    assert otel.exporter_headers("api-key=s3cr3t, x-team = fila") == {"api-key": "s3cr3t", "x-team": "fila"}
    with pytest.raises(ValueError, match="not name=value"):
        otel.exporter_headers("api-key")
    assert tracing.start(Settings(), tracing.Service.WEB) is None
    assert "s3cr3t" not in repr(Settings(otel_headers="api-key=s3cr3t"))


def test_an_attempt_is_a_span_only_in_a_trace_that_is_kept_and_a_forged_trace_is_no_error():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ParentBased

    spans = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(otel.OwnRoots(1.0)))
    provider.add_span_processor(SimpleSpanProcessor(spans))
    traced = otel.Tracing(provider, "fila-worker", "")
    for carried in (otel.NOT_KEPT, f"00-{CALLER_TRACE}-{CALLER_SPAN}-00", f"00-{CALLER_TRACE}-{CALLER_SPAN}-02"):
        with traced.processing("fila", "01M96V3M4T1QYQ8X6D2B0C9A7E", carried, 1):
            pass
    assert spans.get_finished_spans() == ()
    for carried in (f"00-{CALLER_TRACE}-{CALLER_SPAN}-01", '"}, "x": 1', "00-zz"):
        with traced.processing("fila", "01M96V3M4T1QYQ8X6D2B0C9A7E", carried, 1):
            pass
    child, *forged = spans.get_finished_spans()
    assert (format(child.context.trace_id, "032x"), format(child.parent.span_id, "016x")) == (CALLER_TRACE,
                                                                                           CALLER_SPAN)
    assert len(forged) == 2 and all(span.parent is None for span in forged)  # their own traces
    # A request whose trace is not kept sends that decision, not a traceparent.
    dropping = otel.Tracing(TracerProvider(sampler=ParentBased(otel.OwnRoots(0.0))), "fila-web", "")
    with dropping.sending("fila", 1) as (carried, trace_id):
        assert (carried, trace_id) == (otel.NOT_KEPT, "")
