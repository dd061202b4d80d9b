"""Kill the Redis primary of a compose HA project under a steady producer, and count what happened.

The engine test (tests/containers/test_ha.py) runs one failover; `make bench failover` runs ten
with and ten without REDIS_WAIT_REPLICAS. Both use `failover()` below.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
import requests

from tests.support.polling import wait_for
from tests.support.project import Project

HA_FILE = "deploy/ha/compose.ha.yaml"
#: The two Redis services of the HA override: either may be the primary.
REDIS_SERVICES = ("redis", "redis-replica")
PRODUCERS = 2
#: Clients that send each message with an Idempotency-Key and send it again, same key, after any 503,
#: timeout or broken connection, to the `alta` queue (compose's QUEUES=fila,alta): none is lost or doubled.
RETRYING = 1
#: The queue the retrying clients send to: their messages are counted apart from the plain producers'.
RETRYING_QUEUE = "alta"


@dataclass
class Failover:
    """One failover under load: the answers, and what became of every accepted message."""

    killed: str
    codes: dict[int, int] = field(default_factory=dict)
    accepted: list[str] = field(default_factory=list)
    #: The ids accepted while the replica was cut off from the primary (what only the primary had).
    accepted_while_cut: list[str] = field(default_factory=list)
    seconds_to_accepting: float = 0.0
    lost: list[str] = field(default_factory=list)
    #: The retrying clients': each message's key and the ids its first 2xx gave (202, or 200 replayed).
    retried_accepted: dict[str, list[str]] = field(default_factory=dict)
    #: How many of their requests were sent again (after a 503, a timeout, a broken connection).
    retries: int = 0
    #: Of their messages: accepted and never done; enqueued more than once (the queue's `enqueued` beyond those
    #: that survived).
    retried_lost: list[str] = field(default_factory=list)
    retried_duplicated: int = 0
    #: What the killed Redis was when it first answered again: `slave` (it asked the Sentinels), not `master`.
    role_on_return: str = ""
    #: (seconds after the kill, who, what): the Sentinels' and the Redis servers' events, and the harness's.
    timeline: list[tuple[float, str, str]] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return self.codes.get(503, 0)


def address(project: Project, service: str) -> str:
    """Return the IP address of a service's container on the project's network ("" while it is stopped)."""
    (container,) = container_ids(project, service)
    out = project.inspect(container, "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}").split()
    return out[0] if out else ""


#: (project, service) -> container ids, which stay the same when a container is started again.
_CONTAINERS: dict[tuple[str, str], tuple[str, ...]] = {}


def container_ids(project: Project, service: str) -> tuple[str, ...]:
    """Return a service's container ids (looked up once per project: `docker compose ps` is not free)."""
    key = (project.name, service)
    if key not in _CONTAINERS:
        _CONTAINERS[key] = tuple(project.containers(service))
    return _CONTAINERS[key]


def client(project: Project, service: str, port: int = 6379, password_variable: str = "REDIS_PASSWORD") -> redis.Redis:
    """Connect from the host straight to a service's container, as its administrator.

    The checks poll Redis and the Sentinels this way rather than with `docker compose exec`: an
    exec every 100 ms is a process tree in the engine and a load on the 2 cores that fila's own
    processes do not put on a real machine.
    """
    return redis.Redis(host=address(project, service), port=port, password=project.values[password_variable],
                       decode_responses=True, socket_timeout=2, socket_connect_timeout=1)


def primary(project: Project) -> str:
    """Return the service the Sentinels name as the primary now."""
    try:
        named = client(project, "sentinel-1", 26379, "SENTINEL_PASSWORD").sentinel_get_master_addr_by_name("fila")
    except (redis.RedisError, OSError):
        return ""
    return str(named[0]) if named else ""


def role(project: Project, service: str) -> str:
    """Return a Redis service's replication role (master, slave), or "" while it does not answer."""
    try:
        answer = client(project, service).role()
    except (redis.RedisError, OSError):
        return ""
    return str(answer[0]) if answer and answer[0] in ("master", "slave") else ""


def replica_in_sync(project: Project, service: str) -> bool:
    """Tell whether a Redis service is a replica whose link to the primary is up and synced."""
    try:
        info = client(project, service).info("replication")
    except (redis.RedisError, OSError):
        return False
    return info.get("role") == "slave" and info.get("master_link_status") == "up" and \
        not info.get("master_sync_in_progress")


@contextlib.contextmanager
def cut_off(project: Project, replica: str, primary_service: str) -> Iterator[None]:
    """Drop every packet the primary sends to a replica, as a partition or a saturated link would.

    The rule lives in the replica's network namespace (entered from the host with nsenter): the
    replica still reaches the Sentinels, which can promote it, but receives nothing the primary
    acknowledges meanwhile. (`docker pause` is not a cut: the kernel keeps receiving for a frozen
    process, and the replica catches up from its socket buffer when it is thawed.)
    """
    (container,) = container_ids(project, replica)
    pid = project.inspect(container, "{{.State.Pid}}")
    rule = ["INPUT", "-s", address(project, primary_service), "-j", "DROP"]
    iptables = ["nsenter", "-t", pid, "-n", "iptables", "-w"]
    subprocess.run([*iptables, "-I", *rule], check=True, capture_output=True, timeout=30)
    try:
        yield
    finally:
        subprocess.run([*iptables, "-D", *rule], check=True, capture_output=True, timeout=30)


#: The log lines that say where a failover's time goes.
EVENTS = re.compile(r"[+-](sdown|odown|new-epoch|try-failover|vote-for-leader|elected-leader|failover-state-\S+|"
                    r"selected-slave|promoted-slave|switch-master|tilt|failover-end|convert-to-slave)\b|"
                    r"MASTER <-> REPLICA sync: (Finished with success|Master accepted)|Ready to accept connections|"
                    r"Connecting to MASTER|Timeout connecting|Error condition on socket")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: A Redis log line's time: `1:X 06 Dec 2026 22:43:24.123 # ...`.
STAMP = re.compile(r"(\d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2}\.\d{3})")


def timeline(project: Project, since: float) -> list[tuple[float, str, str]]:
    """Return the Sentinels' and the Redis servers' events after `since` (a wall-clock time), in order."""
    logs = project.compose("logs", "--no-color", "--since", str(int(since) - 1), "sentinel-1", "sentinel-2",
                           "sentinel-3", *REDIS_SERVICES, check=False).stdout
    events = []
    for line in logs.splitlines():
        who, _, text = line.partition("|")
        stamp, found = STAMP.search(text), EVENTS.search(text)
        if stamp and found:
            at = datetime.strptime(stamp[1], "%d %b %Y %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()
            if at >= since:
                service = ANSI.sub("", who).strip().rsplit("-", 1)[0]
                events.append((round(at - since, 2), service, found[0]))
    return sorted(events)


def recent_logs(project: Project, replica: str) -> str:
    """Return the Sentinels' and a replica's log lines of the last 90 s, to say why a failover did not happen."""
    return project.compose("logs", "--no-color", "--since", "90s", "sentinel-1", "sentinel-2", "sentinel-3", replica,
                           check=False).stdout


class Producer:
    """POST one message per request from a few threads; remember every answer and every id accepted."""

    def __init__(self, url: str):
        self.url = url
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: list[tuple[float, int]] = []
        self.accepted: list[str] = []
        #: When each accepted id was accepted (monotonic), in order.
        self.accepted_at: list[tuple[float, str]] = []
        self.keyed: dict[str, list[str]] = {}
        self.retries = 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(PRODUCERS)]
        self.threads += [threading.Thread(target=self._run_keyed, daemon=True) for _ in range(RETRYING)]

    def _run_keyed(self) -> None:
        """Send one message at a time with a key of its own; on anything but 202 or 200, send it again, same key."""
        session = requests.Session()
        while not self.stop.is_set():
            key = uuid.uuid4().hex
            while True:
                try:
                    reply = session.post(f"{self.url}/api/queues/{RETRYING_QUEUE}/messages", timeout=10,
                                         json={"body": {"text": "failover", "key": key}},
                                         headers={"Idempotency-Key": key})
                    code = reply.status_code
                except requests.RequestException:
                    code = 0
                if code in (200, 202):
                    with self.lock:
                        self.keyed[key] = reply.json()["ids"]
                    break
                with self.lock:
                    self.retries += 1
                self.stop.wait(0.05)  # a client pauses before it sends again

    def _run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            try:
                reply = session.post(f"{self.url}/api/messages", json={"body": {"text": "failover"}}, timeout=10)
                code = reply.status_code
            except requests.RequestException:
                code = 0
            with self.lock:
                self.answers.append((time.monotonic(), code))
                if code == 202:
                    self.accepted.extend(reply.json()["ids"])
                    self.accepted_at.extend((time.monotonic(), i) for i in reply.json()["ids"])

    def __enter__(self) -> Producer:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(15)

    def count_accepted(self) -> int:
        with self.lock:
            return len(self.accepted)


def unfinished(url: str, ids: list[str]) -> list[str]:
    """Return the ids whose status is not `done` (404 included: a message Redis no longer has)."""
    session = requests.Session()
    return [i for i in ids if session.get(f"{url}/api/messages/{i}", timeout=10).json().get("status") != "done"]


def settle_down(url: str, timeout: float = 180) -> None:
    """Wait until every queue is empty and nothing is in flight (every message that exists has ended)."""
    def idle() -> bool:
        queues = requests.get(f"{url}/api/queues", timeout=10).json()["queues"]
        return not any(q["length"] or q.get("in_flight") for q in queues if q["kind"] == "messages")
    wait_for(idle, timeout=timeout, interval=0.5, message="the queue drained")


def failover(project: Project, *, before: int = 300, after: int = 300, replica_lag: float = 0.0) -> Failover:
    """Kill the primary's container mid-production, bring it back as a replica, and count what was lost.

    The killed container is started again once a replica has been promoted (as a restart policy or
    an operator would): with REDIS_WAIT_REPLICAS=1 and one replica, writes wait for it to return.
    With `replica_lag`, the replica is cut off from the primary for that many seconds before the
    kill, as a slow or partitioned replica would be: what the primary acknowledges meanwhile
    exists nowhere else when it dies.
    """
    url = project.url()
    victim = primary(project)
    survivor = next(service for service in REDIS_SERVICES if service != victim)
    assert replica_in_sync(project, survivor), f"{survivor} is not an in-sync replica"
    (container,) = container_ids(project, victim)
    queues = {q["name"]: q for q in requests.get(f"{url}/api/queues", timeout=10).json()["queues"]}
    enqueued_before = queues[RETRYING_QUEUE]["enqueued"]
    with Producer(url) as producer:
        wait_for(lambda: producer.count_accepted() >= before, timeout=60, message="producing before the kill")
        with contextlib.ExitStack() as partition:
            cut_at = time.monotonic()
            if replica_lag:
                partition.enter_context(cut_off(project, survivor, victim))
                # The fault's length, not a wait for a condition (stop is never set here).
                producer.stop.wait(replica_lag)
            project.engine.run("kill", "-s", "KILL", container)
            killed = time.monotonic()
            killed_at = time.time()
        marks: list[tuple[float, str, str]] = []
        try:
            wait_for(lambda: primary(project) == survivor, timeout=60, interval=0.2, message="a replica promoted")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{recent_logs(project, survivor)}") from exc
        marks.append((round(time.monotonic() - killed, 2), "harness", "sees the replica promoted"))
        # As a restart policy would: the container itself, not `compose start` (which would first
        # wait on its dependencies' health, and a replica just cut off may not be judged healthy yet).
        project.engine.run("start", container)
        marks.append((round(time.monotonic() - killed, 2), "harness", "started the old primary's container"))
        returned = wait_for(lambda: role(project, victim), timeout=60, interval=0.1, message="the old primary back")
        marks.append((round(time.monotonic() - killed, 2), "harness", f"the old primary answers as {returned}"))
        mark = producer.count_accepted()
        wait_for(lambda: producer.count_accepted() >= mark + after, timeout=120, message="accepting again")
    while_cut = [i for at, i in producer.accepted_at if replica_lag and cut_at <= at <= killed]
    result = Failover(killed=victim, accepted=list(producer.accepted), role_on_return=returned,
                      accepted_while_cut=while_cut, retried_accepted=dict(producer.keyed), retries=producer.retries)
    for _, code in producer.answers:
        result.codes[code] = result.codes.get(code, 0) + 1
    refused_after = [at for at, code in producer.answers if at > killed and code != 202]
    first_refusal = min(refused_after, default=killed)
    result.seconds_to_accepting = min((at for at, code in producer.answers if at > first_refusal and code == 202),
                                      default=killed) - killed
    marks.append((round(result.seconds_to_accepting, 2), "web", "accepts again (first 202 after the 503s)"))
    result.timeline = sorted([*timeline(project, killed_at), *marks])
    wait_for(lambda: replica_in_sync(project, victim), timeout=60, interval=0.5, message="the old primary in sync")
    settle_down(url)
    result.lost = unfinished(url, result.accepted)
    retried_ids = [i for ids in result.retried_accepted.values() for i in ids]
    result.retried_lost = unfinished(url, retried_ids)
    figures = {q["name"]: q for q in requests.get(f"{url}/api/queues", timeout=10).json()["queues"]}
    # The queue's `enqueued` counts what it still has (a write a failover lost took its count with it): beyond
    # the clients' accepted messages that survived, any more is a message enqueued twice.
    survived = len(retried_ids) - len(result.retried_lost)
    result.retried_duplicated = figures[RETRYING_QUEUE]["enqueued"] - enqueued_before - survived
    return result
