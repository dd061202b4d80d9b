"""Fibonacci jobs on RQ: real redis-server, real forking `rq worker`, real rq-dashboard."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest
import requests
from rq import Queue
from rq.serializers import JSONSerializer

from shared.core.connection import connect
from shared.jobs.tasks import fibonacci
from tests.support.polling import wait_for
from tests.support.processes import BIN, child_env, start_dashboard, start_rq_worker
from tests.support.redis_server import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def rq_worker(settings):
    proc = start_rq_worker(settings)
    yield proc
    proc.stop()


def poll(client, job_id: str, until: set[str], seen: list[str] | None = None, timeout: float = 20) -> dict:
    def check():
        status = client.get(f"/api/jobs/{job_id}").get_json()
        if seen is not None and (not seen or seen[-1] != status["status"]):
            seen.append(status["status"])
        return status if status["status"] in until else None

    return wait_for(check, timeout=timeout, interval=0.01, message=f"job {job_id} in {until}")


def test_job_goes_queued_started_finished(client, settings, rdb):
    reply = client.post("/api/jobs/fib", json={"n": 32, "algorithm": "naive"})
    assert reply.status_code == 202
    job = reply.get_json()
    assert reply.headers["Location"] == f"/api/jobs/{job['id']}"
    queued = client.get(f"/api/jobs/{job['id']}").get_json()
    assert queued["status"] == "queued" and queued["position"] == 0
    seen: list[str] = ["queued"]
    worker = start_rq_worker(settings)
    try:
        done = poll(client, job["id"], {"finished", "failed"}, seen)
    finally:
        worker.stop()
    assert seen == ["queued", "started", "finished"]
    assert done["result"] == "2178309" and done["worker"] and done["ended_at"] >= done["started_at"]
    assert rdb.get("fib:32") == "2178309" and 0 < rdb.ttl("fib:32") <= settings.fib_cache_ttl
    assert "(Redis (cache))" in client.get("/fib-cache/32").get_data(as_text=True)
    # One line per job in the logs (compose logs -f).
    assert len([line for line in worker.lines if "Successfully completed fib(32, naive)" in line]) == 1
    assert not [line for line in worker.lines if "Job OK" in line]


@pytest.mark.parametrize(("n", "algorithm", "expected"), [(30, "naive", "832040"),
                                                          (100, "fast", "354224848179261915075")])
def test_known_values(client, rq_worker, n, algorithm, expected):
    job = client.post("/api/jobs/fib", json={"n": n, "algorithm": algorithm}).get_json()
    assert poll(client, job["id"], {"finished", "failed"})["result"] == expected


def test_a_million_fast_is_summarised_and_served_whole(client, rq_worker):
    job = client.post("/api/jobs/fib", json={"n": 1_000_000, "algorithm": "fast"}).get_json()
    status = poll(client, job["id"], {"finished", "failed"}, timeout=60)
    assert status["status"] == "finished" and status["truncated"] and status["digits"] == 208_988
    whole = client.get(status["result_url"]).get_data(as_text=True)
    # F(1,000,000) = 19532821287077577316...68996526838242546875, 208,988 digits.
    assert len(whole) == 208_988 and whole.startswith("19532821287077577316") and whole.endswith("38242546875")
    assert status["result"] == f"{whole[:30]}...{whole[-30:]}"
    cached = client.post("/api/jobs/fib", json={"n": 1_000_000, "algorithm": "fast"})
    assert cached.status_code == 200 and cached.get_json()["digits"] == 208_988


def test_cache_answers_without_a_job(client, settings, rdb):
    rdb.set("fib:100", "354224848179261915075")
    reply = client.post("/api/jobs/fib", json={"n": 100, "algorithm": "fast"})
    assert reply.status_code == 200
    assert reply.get_json()["source"] == "cache" and reply.get_json()["result"] == "354224848179261915075"
    text = client.get("/fib-job/100").get_data(as_text=True)
    assert text == "[CACHE] Fibonacci(100) = 354224848179261915075 (Redis (cache))"
    assert Queue(settings.job_queue_name, connection=connect(settings, decode=False)).count == 0
    assert rdb.keys("rq:job:*") == []


def test_handout_style_route_enqueues(client):
    reply = client.get("/fib-job/25?algorithm=naive")
    assert reply.status_code == 202
    assert reply.get_data(as_text=True).startswith("[JOB] Fibonacci(25) enfileirado no RQ: job ")


def test_timeout_ends_failed_with_a_clear_error(settings, rdb):
    from web import create_app

    # fib(40) by the naive recursion takes about 20 s: far beyond the 1 s timeout on any machine.
    strict = dataclasses.replace(settings, job_timeout=1, job_retries=0, fib_job_naive_max=40)
    client = create_app({"SETTINGS": strict, "TESTING": True}).test_client()
    worker = start_rq_worker(strict)
    try:
        job = client.post("/api/jobs/fib", json={"n": 40, "algorithm": "naive"}).get_json()
        status = poll(client, job["id"], {"finished", "failed"}, timeout=30)
    finally:
        worker.stop()
    assert status["status"] == "failed"
    assert "JobTimeoutException" in status["error"] and "1 seconds" in status["error"]


def test_failing_job_is_retried_then_failed(client, settings, rq_worker):
    queue = Queue(settings.job_queue_name, connection=connect(settings, decode=False), serializer=JSONSerializer)
    from rq import Retry

    job = queue.enqueue(fibonacci, args=(5, "bogus", 60), description="fib(5, bogus)", retry=Retry(max=1))
    status = poll(client, job.id, {"failed"})
    assert "is not a valid Algorithm" in status["error"]
    job.refresh()
    assert job.retries_left == 0


@pytest.mark.parametrize(("payload", "reason"), [
    ({"n": -1, "algorithm": "fast"}, ">= 0"), ({"n": "30", "algorithm": "fast"}, "whole number"),
    ({"n": 3.5}, "whole number"), ({"n": True}, "whole number"), ({"n": 10, "algorithm": "slow"}, "naive"),
    ({"n": 36, "algorithm": "naive"}, 'use "algorithm": "fast"'), ({"n": 1_000_001, "algorithm": "fast"}, "limit"),
    ([30], "JSON object"),
])
def test_bad_requests_are_400_and_enqueue_nothing(client, rdb, payload, reason):
    reply = client.post("/api/jobs/fib", json=payload)
    assert reply.status_code == 400 and reason in reply.get_json()["message"]
    assert rdb.keys("rq:job:*") == []


def test_unknown_job_ids_are_404(client):
    for path in ("/api/jobs/0123456789abcdef0123456789abcdef", "/api/jobs/not-a-job",
                 "/api/jobs/0123456789abcdef0123456789abcdef/result"):
        assert client.get(path).status_code == 404
    assert client.delete("/api/jobs/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/fib-job/abc").status_code == 400


def test_cancel_a_queued_job(client):
    job = client.post("/api/jobs/fib", json={"n": 20, "algorithm": "naive"}).get_json()
    reply = client.delete(f"/api/jobs/{job['id']}")
    assert reply.get_json() == {"id": job["id"], "was": "queued", "action": "canceled"}
    assert client.get(f"/api/jobs/{job['id']}").get_json()["status"] == "canceled"


def test_dashboard_lists_the_queue_and_the_job_and_rq_info_sees_the_worker(client, settings, rq_worker):
    job = client.post("/api/jobs/fib", json={"n": 27, "algorithm": "naive"}).get_json()
    poll(client, job["id"], {"finished"})
    port = free_port()
    dashboard = start_dashboard(settings, port)
    try:
        base = f"http://127.0.0.1:{port}/0/data"
        queues = requests.get(f"{base}/queues.json", timeout=5).json()["queues"]
        assert any(q["name"] == settings.job_queue_name for q in queues)
        listed = requests.get(f"{base}/jobs/{settings.job_queue_name}/finished/10/asc/1.json", timeout=5).json()
        assert job["id"] in [j["id"] for j in listed["jobs"]]
        detail = requests.get(f"{base}/job/{job['id']}.json", timeout=5).json()
        assert detail["status"] == "finished" and detail["result"] == "196418"
        assert detail["description"] == "fib(27, naive)"
    finally:
        dashboard.stop()
    info = subprocess.run([str(BIN / "rq"), "info", "-c", "shared.jobs.rq_config", "--serializer", "json"],
                          env=child_env(settings), capture_output=True, text=True, timeout=30)
    assert info.returncode == 0
    assert settings.job_queue_name in info.stdout and "1 workers" in info.stdout


def test_dashboard_basic_auth(settings):
    port = free_port()
    dashboard = start_dashboard(settings, port, env={"RQ_DASHBOARD_USERNAME": "prof",
                                                     "RQ_DASHBOARD_PASSWORD": "segredo"})
    try:
        url = f"http://127.0.0.1:{port}/0/data/queues.json"
        assert requests.get(url, timeout=5).status_code == 401
        assert requests.get(url, auth=("prof", "segredo"), timeout=5).status_code == 200
    finally:
        dashboard.stop()


def test_a_delayed_job_is_scheduled_then_run_by_the_rq_scheduler(client, settings, rdb):
    reply = client.post("/api/jobs/fib", json={"n": 31, "algorithm": "fast", "delay_ms": 1500})
    assert reply.status_code == 202
    job = reply.get_json()
    assert job["status"] == "scheduled"
    assert client.get(f"/api/jobs/{job['id']}").get_json()["status"] == "scheduled"
    assert client.get("/api/queues").get_json()["queues"][1]["scheduled"] == 1  # RQ's scheduled registry
    port = free_port()
    dashboard = start_dashboard(settings, port)
    try:  # rq-dashboard lists it under the queue's scheduled jobs
        listed = requests.get(f"http://127.0.0.1:{port}/0/data/jobs/{settings.job_queue_name}/scheduled/10/asc/1.json",
                              timeout=5).json()
        assert [j["id"] for j in listed["jobs"]] == [job["id"]]
    finally:
        dashboard.stop()
    worker = start_rq_worker(settings)  # with --with-scheduler, as make run and compose start it
    try:
        done = poll(client, job["id"], {"finished", "failed"}, timeout=30)
    finally:
        worker.stop()
    assert done["status"] == "finished" and done["result"] == "1346269"


def test_a_job_s_own_timeout_replaces_job_timeout(settings, rdb):
    from web import create_app

    strict = dataclasses.replace(settings, job_retries=0, fib_job_naive_max=40)  # JOB_TIMEOUT stays 60 s
    client = create_app({"SETTINGS": strict, "TESTING": True}).test_client()
    worker = start_rq_worker(strict)
    try:
        job = client.post("/api/jobs/fib", json={"n": 40, "algorithm": "naive", "timeout_ms": 1000}).get_json()
        status = poll(client, job["id"], {"finished", "failed"}, timeout=30)
    finally:
        worker.stop()
    assert status["status"] == "failed" and "1 seconds" in status["error"]


@pytest.mark.parametrize("extra", [{"delay_ms": -1}, {"delay_ms": "5"}, {"delay_ms": 30 * 86400 * 1000 + 1},
                                   {"timeout_ms": 0}, {"timeout_ms": 86_400_001}, {"timeout_ms": True}])
def test_bad_job_schedule_options_are_400_and_enqueue_nothing(client, rdb, extra):
    reply = client.post("/api/jobs/fib", json={"n": 10, "algorithm": "fast", **extra})
    assert reply.status_code == 400 and reply.get_json()["error"] == "bad_schedule"
    assert rdb.keys("rq:*") == []


def test_an_idempotency_key_enqueues_a_job_once(client, settings, rdb):
    headers = {"Idempotency-Key": "fib-do-relatorio"}
    first = client.post("/api/jobs/fib", json={"n": 33, "algorithm": "fast"}, headers=headers)
    assert first.status_code == 202
    again = client.post("/api/jobs/fib", json={"n": 33, "algorithm": "fast"}, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert rdb.llen(f"rq:queue:{settings.job_queue_name}") == 1  # one job on RQ's queue
    other = client.post("/api/jobs/fib", json={"n": 34, "algorithm": "fast"}, headers=headers)
    assert other.status_code == 422 and other.get_json()["error"] == "idempotency_key_reused"
    assert rdb.llen(f"rq:queue:{settings.job_queue_name}") == 1
    # Two at once: the second finds the first's lock (made here by hand) and is told to retry.
    from shared.core import keys
    from shared.messages.idempotency import key_digest

    rdb.set(keys.idempotency(settings.job_queue_name, key_digest("outra")[:32]), "x", ex=10)
    busy = client.post("/api/jobs/fib", json={"n": 35, "algorithm": "fast"}, headers={"Idempotency-Key": "outra"})
    assert busy.status_code == 409 and busy.headers["Retry-After"] == "1"
    assert client.get("/fib-job/36", headers=headers).status_code == 202  # the handout's route: no key there
