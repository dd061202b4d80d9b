"""The compose journey on a real engine, as a new user takes it: up, the handout, scale, faults, down and up.

One project for the module (bringing it up is the slow part); the steps run in order, as a user
would take them, each checking what it promises.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import uuid

import pytest
import requests

from tests.containers.conftest import TIMINGS
from tests.support.polling import wait_for
from tests.support.project import Project, env_file

# The first test waits for the engine, the base images and the build when they are cold.
pytestmark = [pytest.mark.containers, pytest.mark.slow, pytest.mark.timeout(1200)]

SERVICES = ("redis", "web", "worker", "worker-alta", "rq-worker", "dashboard", "redis-commander")


@pytest.fixture(scope="module")
def project(fila_images, tmp_path_factory):
    engine = fila_images
    directory = tmp_path_factory.mktemp("journey")
    proj = Project(engine, f"fila-journey-{uuid.uuid4().hex[:6]}", env_file(directory, engine))
    began = time.monotonic()
    try:
        proj.compose("up", "-d", "--build", "--wait", timeout=600)
        TIMINGS["journey: up --build --wait (healthy)"] = time.monotonic() - began
        yield proj
    finally:
        proj.down()


def post_messages(url: str, bodies: list) -> list[str]:
    reply = requests.post(f"{url}/api/messages", json=[{"body": b} for b in bodies], timeout=30)
    assert reply.status_code == 202, reply.text
    return reply.json()["ids"]


def statuses(url: str, ids: list[str]) -> dict[str, str]:
    session = requests.Session()
    return {i: session.get(f"{url}/api/messages/{i}", timeout=10).json().get("status") for i in ids}


def all_done(url: str, ids: list[str]) -> bool:
    queues = requests.get(f"{url}/api/queues", timeout=10).json()["queues"][0]
    if queues["length"] or queues["in_flight"]:
        return False
    return set(statuses(url, ids).values()) == {"done"}


def test_every_service_is_up_and_healthy(project):
    states = project.health()
    assert all(state == "healthy" for state in states.values()), states
    for service in SERVICES:
        assert project.containers(service), service
    assert len(states) == len(SERVICES) + 1  # two workers (WORKERS=2 in .env.example)


#: Run in the web container: the granian worker processes (children of PID 1), or kill one of them.
GRANIAN_WORKERS = """
import os, signal, sys
children = [int(p) for p in os.listdir("/proc") if p.isdigit()
            and open(f"/proc/{p}/stat").read().split(") ")[1].split()[1] == "1"]
if sys.argv[1:] == ["kill"]:
    os.kill(children[0], signal.SIGKILL)
print(" ".join(map(str, sorted(children))))
"""


def test_a_killed_web_worker_is_replaced_in_its_container(project):
    (web,) = project.containers("web")
    started = project.inspect(web, "{{.State.StartedAt}}")
    before = project.engine.run("exec", web, "python", "-c", GRANIAN_WORKERS).stdout.split()
    assert len(before) == 2  # --workers 2
    killed = project.engine.run("exec", web, "python", "-c", GRANIAN_WORKERS, "kill").stdout.split()[0]

    def replaced() -> bool:
        now = project.engine.run("exec", web, "python", "-c", GRANIAN_WORKERS).stdout.split()
        return len(now) == 2 and killed not in now

    wait_for(replaced, timeout=30, message="granian replaced its worker")
    assert [requests.get(f"{project.url()}/sem-redis", timeout=5).status_code for _ in range(10)] == [200] * 10
    assert project.inspect(web, "{{.State.StartedAt}}") == started  # the container did not restart


#: Each service's Redis user, and the .env variable holding its password.
REDIS_USERS = {"web": "REDIS_WEB_PASSWORD", "worker": "REDIS_WORKER_PASSWORD", "rq": "REDIS_RQ_PASSWORD",
               "dashboard": "REDIS_DASHBOARD_PASSWORD", "commander": "REDIS_COMMANDER_PASSWORD"}


def test_each_service_has_its_own_redis_user_and_none_reads_a_secret(project):
    def as_user(user: str, password_variable: str, *command: str) -> str:
        return project.compose("exec", "-T", "-e", f"REDISCLI_AUTH={project.values[password_variable]}", "redis",
                               "redis-cli", "--user", user, *command).stdout

    admin_password = project.values["REDIS_PASSWORD"]
    for user, variable in REDIS_USERS.items():
        for command in (("CONFIG", "GET", "masterauth"), ("CONFIG", "GET", "requirepass"),
                        ("ACL", "GETUSER", "default"), ("ACL", "LIST"), ("SELECT", "1"), ("SCRIPT", "FLUSH"),
                        ("FUNCTION", "FLUSH"), ("FLUSHALL",)):
            answer = as_user(user, variable, *command)
            assert "NOPERM" in answer and admin_password not in answer, (user, command, answer)
        assert as_user(user, variable, "PING").strip() == "PONG", user
    assert "NOPERM" in as_user("commander", "REDIS_COMMANDER_PASSWORD", "SET", "x", "1")
    assert "NOPERM" in as_user("dashboard", "REDIS_DASHBOARD_PASSWORD", "GET", "curso")  # RQ's keys only
    assert "NOPERM" in as_user("worker", "REDIS_WORKER_PASSWORD", "GET", "curso")  # fila's keys only
    assert "NOPERM" in as_user("rq", "REDIS_RQ_PASSWORD", "LPUSH", "fila", "x")  # RQ's keys only
    assert "NOAUTH" in as_user("web", "REDIS_PASSWORD", "PING") or "WRONGPASS" in as_user(
        "web", "REDIS_PASSWORD", "PING")  # another user's password does not open it
    # Each service works under its own user: every connection to Redis names its user, and every user is there.
    connected = {line.split(" user=")[1].split(" ")[0] for line in project.redis_cli("CLIENT", "LIST").splitlines()
                 if " user=" in line}
    assert set(REDIS_USERS) <= connected <= {*REDIS_USERS, "default"}, connected
    assert all(state == "healthy" for state in project.health().values())
    # Redis Commander works without CONFIG GET: it signs in, lists its connection, and reads a key.
    commander = project.url("COMMANDER_PORT")
    signed = requests.post(f"{commander}/signin", data={"username": project.values["COMMANDER_USERNAME"],
                                                        "password": project.values["COMMANDER_PASSWORD"]}, timeout=10)
    bearer = {"Authorization": f"Bearer {signed.json()['bearerToken']}"}
    (connection,) = requests.get(f"{commander}/connections", headers=bearer, timeout=10).json()["connections"]
    requests.get(f"{project.url()}/set/commander_sees/this", timeout=10).raise_for_status()
    key = requests.get(f"{commander}/apiv2/key/{connection['conId']}/commander_sees", headers=bearer, timeout=10)
    assert key.status_code == 200 and "this" in key.text, key.text[:300]


def test_the_admin_api_needs_credentials_and_the_handout_none(project):
    url = project.url()
    assert requests.get(f"{url}/api/dead", timeout=5).status_code == 401
    assert requests.get(f"{url}/painel", timeout=5, allow_redirects=False).status_code == 302
    created = project.compose("exec", "-T", "web", "fila", "token", "create", "--ttl", "60", "--name", "journey")
    secret = created.stdout.strip()
    answer = requests.get(f"{url}/api/dead", headers={"Authorization": f"Bearer {secret}"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["dead"] == []


def test_the_handout_curl_lines(project):
    base, alt = project.url(), project.url("WEB_ALT_PORT")

    def curl(url: str) -> str:
        return subprocess.run(["curl", "-s", url], capture_output=True, text=True, timeout=10, check=True).stdout

    assert re.fullmatch(r"Hello World! I have been seen 1 times\.\nTempo de resposta: \d\.\d{6} segundos",
                        curl(f"{base}/"))
    assert curl(f"{base}/set/curso/Redis") == "Valor Redis foi armazenado com a chave curso"
    assert curl(f"{base}/get/curso") == "Valor recuperado: Redis"
    assert curl(f"{base}/usuario/Maria") == "Olá, Maria!"
    assert curl(f"{base}/set/minhaChave/meuValor") == "Valor meuValor foi armazenado com a chave minhaChave"
    assert curl(f"{base}/push/minhaLista/valor1") == "Valor valor1 adicionado à lista minhaLista"
    assert curl(f"{alt}/sobre") == "Sobre o aplicativo..."
    assert curl(f"{alt}/contato") == "Página de contato."
    assert curl(f"{alt}/usuario/Jose") == "Olá, Jose!"
    assert "Fibonacci(30) = 832040" in curl(f"{base}/fib/30")
    assert "(calculado e salvo no Redis)" in curl(f"{base}/fib-cache/30")
    assert "(Redis (cache))" in curl(f"{base}/fib-cache/30")
    assert "I have been seen 2 times" in curl(f"{alt}/")  # one Redis behind both ports
    # The lab's own route (lab/app.py), served from the image as `docker compose up --build` built it.
    assert curl(f"{base}/lab").startswith("Laboratório no ar: 1 visita(s).")


def test_redis_cli_inside_the_redis_container(project):
    assert project.redis_cli("GET", "curso").strip() == "Redis"
    assert project.redis_cli("LRANGE", "minhaLista", "0", "-1").split() == ["valor1"]
    assert "redis_version:" in project.redis_cli("INFO")
    assert "curso" in project.redis_cli("KEYS", "*").split()
    # The handout's own form: docker exec -it [NOME_DO_CONTAINER_REDIS] redis-cli
    (container,) = project.containers("redis")
    direct = project.engine.run("exec", container, "redis-cli", "GET", "nome").stdout
    assert direct.strip() == ""  # answered (no NOAUTH): the password comes from REDISCLI_AUTH


def test_messages_end_done_and_each_has_a_log_line(project):
    url = project.url()
    ids = post_messages(url, [{"text": f"compose {i}"} for i in range(50)])
    wait_for(lambda: all_done(url, ids), timeout=60, interval=0.2, message="50 messages done")
    logs = project.compose("logs", "--no-color", "worker").stdout
    for message_id in ids:
        assert len(re.findall(rf"{message_id} done attempts=1 ", logs)) == 1, message_id


def test_two_named_queues_each_served_by_its_own_workers(project):
    """QUEUES=fila,alta (compose's default): `alta` is served by worker-alta, whatever waits on `fila`."""
    url = project.url()
    project.compose("stop", "worker", timeout=120)  # fila's workers away: a backlog builds there
    try:
        backlog = post_messages(url, [{"i": i} for i in range(200)])
        reply = requests.post(f"{url}/api/queues/alta/messages", json=[{"body": {"alta": i}} for i in range(20)],
                              timeout=30)
        assert reply.status_code == 202 and reply.json()["queue"] == "alta", reply.text
        urgent = reply.json()["ids"]
        wait_for(lambda: set(statuses(url, urgent).values()) == {"done"}, timeout=60, interval=0.2,
                 message="alta's messages done by worker-alta")
        assert set(statuses(url, backlog[:20]).values()) == {"queued"}  # fila's still wait: nobody serves them
        named = {q["name"]: q for q in requests.get(f"{url}/api/queues", timeout=10).json()["queues"]}
        assert named["alta"]["done"] == 20 and named["fila"]["length"] == 200
        logs = project.compose("logs", "--no-color", "worker-alta").stdout
        assert all(f"{message_id} done attempts=1 " in logs for message_id in urgent)
        metrics = requests.get(f"{url}/metrics", timeout=10).text
        assert 'fila_messages_processed_total{queue="alta"} 20.0' in metrics
    finally:
        project.compose("start", "worker", timeout=120)
    wait_for(lambda: all_done(url, backlog), timeout=60, interval=0.2, message="fila's backlog after its workers")


def test_four_workers_share_a_backlog_and_survive_a_kill(project):
    url = project.url()
    began = time.monotonic()
    project.compose("up", "-d", "--scale", "worker=4", "--wait", "--no-recreate", "worker", timeout=300)
    workers = project.containers("worker")
    assert len(workers) == 4
    assert all(project.inspect(c, "{{.State.Health.Status}}") == "healthy" for c in workers)
    ids = post_messages(url, [{"work_ms": 20, "i": i} for i in range(2000)])
    wait_for(lambda: requests.get(f"{url}/api/queues", timeout=5).json()["queues"][0]["done"] >= 50 + 300,
             timeout=60, message="the backlog is being worked on")
    victim = workers[-1]
    project.engine.run("kill", "-s", "KILL", victim)
    wait_for(lambda: all_done(url, ids), timeout=120, interval=0.5, message="every message done after the kill")
    TIMINGS["journey: 2,000 x 20 ms on 4 workers, one killed"] = time.monotonic() - began
    records = [requests.get(f"{url}/api/messages/{i}", timeout=5).json() for i in ids[::50]]
    assert {r["status"] for r in records} == {"done"}
    workers_seen = {r["worker"] for r in [requests.get(f"{url}/api/messages/{i}", timeout=5).json() for i in ids]}
    assert len(workers_seen) >= 4, workers_seen
    queues = requests.get(f"{url}/api/queues", timeout=5).json()["queues"][0]
    assert queues["dead"] == 0


def test_redis_restart_under_a_steady_producer(project):
    url = project.url()
    codes: dict[int, int] = {}
    accepted: list[str] = []
    stop = threading.Event()

    def produce():
        session = requests.Session()
        while not stop.is_set():
            try:
                reply = session.post(f"{url}/api/messages", json={"body": {"text": "durante o restart"}}, timeout=5)
            except requests.RequestException:
                codes[0] = codes.get(0, 0) + 1
                continue
            codes[reply.status_code] = codes.get(reply.status_code, 0) + 1
            if reply.status_code == 202:
                accepted.extend(reply.json()["ids"])

    workers_before = {c: project.inspect(c, "{{.State.StartedAt}}") for c in project.containers("worker")}
    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    wait_for(lambda: len(accepted) >= 200, timeout=30, message="producing")
    began = time.monotonic()
    project.compose("restart", "redis", timeout=120)
    wait_for(lambda: requests.get(f"{url}/readyz", timeout=2).status_code == 200, timeout=60, message="ready")
    back = len(accepted)
    wait_for(lambda: len(accepted) >= back + 200, timeout=30, message="accepting again")
    stop.set()
    producer.join(10)
    TIMINGS["journey: redis restart, back to accepting"] = time.monotonic() - began
    assert set(codes) <= {202, 503}, codes
    wait_for(lambda: all_done(url, accepted), timeout=120, interval=0.5, message="every accepted message done")
    print(f"redis restart under a producer: {codes.get(202, 0)} accepted, {codes.get(503, 0)} answered 503, "
          "0 lost")
    workers_after = {c: project.inspect(c, "{{.State.StartedAt}}") for c in project.containers("worker")}
    assert workers_after == workers_before  # no worker exited or was restarted


def test_a_fibonacci_job_and_both_dashboards(project):
    done = project.finished_job(90)
    assert done["result"] == "2880067194370816120"
    assert done["worker"]
    queues = f"{project.url('DASHBOARD_PORT')}/0/data/queues.json"
    assert requests.get(queues, timeout=10).status_code == 401
    assert "fib" in [q["name"] for q in project.dashboard_queues()]
    clients = project.redis_cli("CLIENT", "LIST")
    assert "name=redis-commander" in clients  # Redis Commander holds a connection to this Redis
    assert requests.get(f"{project.url('COMMANDER_PORT')}/healthcheck", timeout=10).text.strip() == "ok"


def test_the_monitoring_profile_adds_a_prometheus_that_scrapes_fila(project):
    began = time.monotonic()
    project.compose("--profile", "monitoring", "up", "-d", "--wait", "prometheus", timeout=300)
    TIMINGS["journey: --profile monitoring up (prometheus healthy)"] = time.monotonic() - began
    try:
        prometheus = project.url("PROMETHEUS_PORT")

        def query(expr: str) -> float | None:
            answer = requests.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=5).json()
            result = answer["data"]["result"]
            return float(result[0]["value"][1]) if result else None

        wait_for(lambda: query('up{job="fila"}') == 1.0, timeout=60, interval=1, message="Prometheus scraped web:5000")
        rules = requests.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
        assert {rule["name"] for group in rules for rule in group["rules"]} >= {
            "FilaDown", "FilaRedisDown", "FilaBacklogGrowing", "FilaOldestMessageTooOld", "FilaNoLiveWorkers",
            "FilaDeadLettersRising"}
        figures = requests.get(f"{project.url()}/api/queues", timeout=5).json()["queues"][0]
        wait_for(lambda: query('fila_messages_enqueued_total{queue="fila"}') == figures["enqueued"], timeout=30,
                 interval=1, message="Prometheus reads what /api/queues says")
        assert query("fila_redis_up") == 1.0 and query('fila_workers_live{queue="fila"}') >= 1
        assert query('fila_workers_live{queue="alta"}') >= 1  # worker-alta, a series of its own
    finally:  # down, in the last step, removes no container of a profile it is not given
        project.compose("--profile", "monitoring", "rm", "--stop", "--force", "prometheus", timeout=120)


def test_stopping_the_workers_is_warm_and_loses_nothing(project):
    url = project.url()
    ids = post_messages(url, [{"work_ms": 20, "i": i} for i in range(400)])
    wait_for(lambda: requests.get(f"{url}/api/queues", timeout=5).json()["queues"][0]["in_flight"] > 0,
             timeout=30, message="work in flight")
    workers = project.containers("worker")
    began = time.monotonic()
    project.compose("stop", "worker", timeout=120)
    stopped_in = time.monotonic() - began
    TIMINGS["journey: compose stop worker"] = stopped_in
    assert stopped_in < 30  # the grace period
    assert [project.inspect(c, "{{.State.ExitCode}}") for c in workers] == ["0"] * len(workers)
    queues = requests.get(f"{url}/api/queues", timeout=5).json()["queues"][0]
    assert queues["in_flight"] == 0  # what was in hand was stored or given back
    project.compose("start", "worker", timeout=120)
    wait_for(lambda: all_done(url, ids), timeout=90, interval=0.5, message="every message done after the restart")


def test_a_delayed_message_waits_and_a_hung_handler_is_taken_back_and_restarted(project):
    url = project.url()
    began = time.monotonic()
    reply = requests.post(f"{url}/api/messages", timeout=10, json=[
        {"body": {"text": "mais tarde"}, "delay_ms": 1500},
        {"body": {"work_ms": 600_000}, "timeout_ms": 500, "max_attempts": 1}])  # the shipped handler sleeps 10 min
    assert reply.status_code == 202, reply.text
    delayed, hung = reply.json()["ids"]
    first = requests.get(f"{url}/api/messages/{delayed}", timeout=5).json()
    assert first["status"] == "scheduled" and first["due_at"] > time.time()

    def stuck() -> dict | None:
        workers = requests.get(f"{url}/api/workers", timeout=5).json()["workers"]
        return next((w for w in workers if w["state"] == "stuck" and w["current"] == hung), None)
    shown = wait_for(stuck, timeout=30, interval=0.1, message="a worker shown stuck")
    dead = requests.get(f"{url}/api/messages/{hung}", timeout=5).json()
    assert (dead["status"], dead["error"]) == ("dead", "timeout")
    # Filed under its error's group as it died (triage), as the operator's tools show it.
    secret = project.compose("exec", "-T", "web", "fila", "token", "create", "--ttl", "60").stdout.strip()
    groups = requests.get(f"{url}/api/dead/groups", headers={"Authorization": f"Bearer {secret}"}, timeout=5).json()
    (timeout,) = [g for g in groups["groups"] if g["signature"] == "timeout"]
    assert timeout["count"] == 1 and timeout["sample_id"] == hung
    listed = project.compose("exec", "-T", "worker", "fila", "dead", "groups").stdout
    assert f"{timeout['group']}" in listed and "timeout" in listed
    wait_for(lambda: all_done(url, [delayed]), timeout=30, interval=0.2, message="the delayed message done")
    done = requests.get(f"{url}/api/messages/{delayed}", timeout=5).json()
    assert done["finished_at"] >= first["due_at"]
    # Each one's timeline, from the API and from `fila explain` in a worker's container.
    steps = lambda message_id: [s["step"] for s in requests.get(  # noqa: E731
        f"{url}/api/messages/{message_id}/timeline", timeout=5).json()["steps"]]
    assert steps(delayed) == ["scheduled", "promoted", "taken", "done"]
    assert steps(hung) == ["enqueued", "taken", "timed_out", "dead"]
    explained = project.compose("exec", "-T", "worker", "fila", "explain", delayed).stdout
    assert f"message {delayed} on fila: done" in explained and "PROMOTE (lua/promote.lua)" in explained
    # The stuck worker re-executes itself in its container (same PID 1: the container is not restarted).
    logs = lambda: project.compose("logs", "--no-color", "worker").stdout  # noqa: E731
    wait_for(lambda: "restarting the worker" in logs(), timeout=30, interval=0.5, message="the worker restarted")
    wait_for(lambda: any(w["name"] == shown["name"] and w["state"] == "alive"
                         for w in requests.get(f"{url}/api/workers", timeout=5).json()["workers"]),
             timeout=30, interval=0.2, message="the same worker alive again")
    assert all(project.inspect(c, "{{.RestartCount}}") == "0" for c in project.containers("worker"))
    TIMINGS["journey: a delayed message, a hung handler taken back and restarted"] = time.monotonic() - began


def test_fila_prove_in_a_worker_container_loses_nothing_and_the_console_shows_it(project):
    """The experiment runs on the deployment's Redis, as its worker user, beside the deployment's workers."""
    url = project.url()
    refused = project.compose("exec", "-T", "worker", "fila", "prove", "kill-worker", check=False)
    assert refused.returncode == 2 and "ALLOW_EXPERIMENTS=1" in refused.stderr
    ran = project.compose("exec", "-T", "-e", "ALLOW_EXPERIMENTS=1", "worker", "fila", "prove", "kill-worker",
                          "--messages", "600", "--json")
    found = json.loads(ran.stdout)
    assert (found["accepted"], found["done"], found["lost"]) == (600, 600, 0), ran.stderr
    secret = project.compose("exec", "-T", "web", "fila", "token", "create", "--ttl", "60").stdout.strip()
    shown = requests.get(f"{url}/api/experiments", headers={"Authorization": f"Bearer {secret}"}, timeout=5).json()
    assert [(r["delivery"], r["lost"]) for r in shown["results"]] == [("reliable", 0)]


def test_traces_follow_a_message_and_a_job_from_the_web_container_into_the_workers(project):
    """OTEL_EXPORTER_OTLP_ENDPOINT in .env: the containers send their spans to a collector (a receiver on the host)."""
    from tests.support.otlp import Receiver
    from tests.support.project import clean_environment

    gateway = subprocess.run(["docker", "network", "inspect", f"{project.name}_default", "-f",
                              "{{(index .IPAM.Config 0).Gateway}}"], env=clean_environment(project.engine),
                             capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    original = project.env_path.read_text()
    with Receiver(host=gateway) as receiver:
        project.env_path.write_text(f"{original}OTEL_EXPORTER_OTLP_ENDPOINT={receiver.url}\n")
        try:
            began = time.monotonic()
            project.compose("up", "-d", "--wait", "web", "worker", "rq-worker", timeout=300)
            TIMINGS["journey: traces on (web, worker, rq-worker recreated)"] = time.monotonic() - began
            url = project.url()
            (message_id,) = post_messages(url, [{"text": "rastreada"}])
            job = requests.post(f"{url}/api/jobs/fib", json={"n": 15}, timeout=10)
            assert job.status_code == 202, job.text
            wait_for(lambda: receiver.named("fila process fila", "fila-worker")
                     and receiver.named("fila process fib", "fila-rq-worker")
                     and len(receiver.named("fila send fila", "fila-web")) >= 1, timeout=60, interval=0.5,
                     message="the spans of the web, a worker and the RQ worker")
            timeline = requests.get(f"{url}/api/messages/{message_id}/timeline", timeout=10).json()
            record = requests.get(f"{url}/api/messages/{message_id}", timeout=10).json()
            tracing_metric = requests.get(f"{url}/metrics", timeout=10).text
        finally:
            project.env_path.write_text(original)  # the next step's down and up bring them back without it
    (attempt,) = [span for span in receiver.named("fila process fila")
                  if span.attributes["messaging.message.id"] == message_id]
    send = next(span for span in receiver.named("fila send fila") if span.span_id == attempt.parent_id)
    assert attempt.trace_id == send.trace_id == timeline["steps"][0]["trace"]
    assert attempt.instance == record["worker"]  # the worker that ran it names its process
    (job_span,) = receiver.named("fila process fib")
    assert job_span.attributes["messaging.message.id"] == job.json()["id"]
    assert "\nfila_tracing_enabled 1.0\n" in tracing_metric


def test_down_then_up_keeps_the_data(project):
    url = project.url()
    (message_id,) = post_messages(url, [{"text": "antes do down"}])
    wait_for(lambda: all_done(url, [message_id]), timeout=30, message="done before down")
    project.compose("down", timeout=300)
    assert project.compose("ps", "-a", "-q").stdout.strip() == ""
    began = time.monotonic()
    project.compose("up", "-d", "--wait", timeout=300)
    TIMINGS["journey: up again after down (healthy)"] = time.monotonic() - began
    assert requests.get(f"{url}/get/curso", timeout=10).text == "Valor recuperado: Redis"
    assert requests.get(f"{url}/api/messages/{message_id}", timeout=10).json()["status"] == "done"
