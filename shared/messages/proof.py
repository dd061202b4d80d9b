"""`fila prove`'s queue, handler and results: what an experiment on the delivery guarantee counts and keeps.

An experiment sends numbered messages to its own queue (`prove`, beside the deployment's), runs
them on its own workers, and meanwhile kills one of them with SIGKILL while it holds a batch
(`kill-worker`), kills Redis itself, which `make run` starts again from its append-only file
(`restart-redis`), or has the Sentinels fail the primary over (`failover`); then it counts how
often each number ran: never (lost), once, or more (run again). The handler counts the runs in
Redis (`keys.proof_runs`), so the count does not depend on any record the fault may cut.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import redis

from shared.core import keys
from shared.core.codec import STORED_DEPTH_MAX, dumps, loads
from shared.core.connection import connect
from shared.core.settings import Delivery, Settings

#: The experiments' own queue: never one of QUEUES, so nothing of the deployment's is touched.
QUEUE = "prove"
#: The experiments `fila prove` runs.
EXPERIMENTS = ("kill-worker", "restart-redis", "failover")
#: How long the last result of an experiment is kept (the console and /metrics show it).
RESULT_TTL = 30 * 86400
#: Most numbered messages an experiment sends.
MESSAGES_MAX = 100_000

_clients: dict[str, redis.Redis] = {}


def record(body: Any, settings: Settings) -> dict[str, int]:
    """Count one run of a numbered message (the experiments' handler), after its `work_ms` of work."""
    client = _clients.get(settings.redis_url)
    if client is None:
        client = _clients[settings.redis_url] = connect(settings, name="fila-prove")
    client.hincrby(keys.proof_runs(str(body["run"])), str(body["n"]), 1)
    time.sleep(min(float(body.get("work_ms", 0)), 1000.0) / 1000)
    return {"n": int(body["n"])}


@dataclass(frozen=True)
class Proof:
    """One experiment's outcome: how many numbered messages were accepted, ran, were lost or ran again."""

    experiment: str
    delivery: str
    messages: int
    accepted: int
    #: Numbers that ran at least once.
    done: int
    #: Numbers that never ran.
    lost: int
    #: Numbers that ran more than once (the kill cut them after they ran, before their result was stored).
    duplicated: int
    kills: int
    at: float
    seconds: float
    #: restart-redis: sends answered with an error while Redis was down (not accepted: the sender knows to retry).
    refused: int = 0
    #: restart-redis: how the Redis wrote its append-only file (REDIS_APPENDFSYNC).
    appendfsync: str = ""
    #: failover: the replicas each enqueue waited for (REDIS_WAIT_REPLICAS).
    wait_replicas: int = 0

    def dump(self) -> str:
        """Write the result as stored."""
        return dumps(asdict(self))

    @classmethod
    def parse(cls, raw: str | None) -> Proof | None:
        """Read a stored result (None for what is not one)."""
        if raw is None:
            return None
        try:
            found = loads(raw, STORED_DEPTH_MAX)
            return cls(**found) if isinstance(found, dict) else None
        except (ValueError, TypeError):
            return None

    def says(self) -> str:
        """Say what the figures mean, in plain words."""
        if self.experiment == "restart-redis":
            return (f"Redis was killed with SIGKILL while numbered messages were being sent, and started again from "
                    f"its append-only file (appendfsync {self.appendfsync}): {self.accepted:,} accepted, "
                    f"{self.refused:,} refused while it was down (their sender was told, and sends them again); of "
                    f"those accepted, {self.lost:,} lost. Redis writes each command to its file before it answers: "
                    f"a crash of Redis alone loses nothing it acknowledged (a crash of the whole machine could lose "
                    f"the last second with everysec; REDIS_APPENDFSYNC=always closes that too). {self.duplicated:,} "
                    f"ran more than once (at least once: a run whose stored result the crash cut runs again).")
        if self.experiment == "failover":
            why = (f"Each enqueue waited until {self.wait_replicas} replica(s) had it (REDIS_WAIT_REPLICAS): the "
                   "promoted replica had every message accepted." if self.wait_replicas else
                   "Without REDIS_WAIT_REPLICAS an enqueue is answered before the replica has it: what the old "
                   "primary had not yet sent its replica is lost in a failover (REDIS_WAIT_REPLICAS=1 closes that, "
                   "docs/deploy.md).")
            return (f"The Sentinels failed the primary over to its replica while numbered messages were being sent: "
                    f"{self.accepted:,} accepted, {self.refused:,} refused during the switch (their sender was told, "
                    f"and sends them again); of those accepted, {self.lost:,} lost. {why} {self.duplicated:,} ran "
                    f"more than once (at least once: a run whose stored result the switch cut runs again).")
        if self.delivery == Delivery.RELIABLE:
            return (f"A worker was killed with SIGKILL {self.kills} time(s) while it held a batch. Reliable delivery "
                    f"(BLMOVE, TAKE) keeps each message it takes in the worker's processing list until its result is "
                    f"stored; when the dead worker's heartbeat expired, another worker's reaper put them back: "
                    f"{self.lost} lost. {self.duplicated} ran twice: they had run before the kill, their results "
                    f"not stored yet (at least once: make handlers idempotent).")
        return (f"A worker was killed with SIGKILL {self.kills} time(s) while it held a batch. With BRPOP (the "
                f"handout's loop) a message taken off the list lives only in the worker's memory: the {self.lost} it "
                f"held and had not run yet are gone (at most once). Run it again with --delivery reliable.")

    def describe(self) -> dict[str, Any]:
        """Return the API's view: the figures and what they mean."""
        return {**asdict(self), "says": self.says()}


def save(connection: redis.Redis, proof: Proof) -> None:
    """Keep an experiment's result, the last of its kind and delivery mode, RESULT_TTL."""
    connection.set(keys.proof_result(proof.experiment, proof.delivery), proof.dump(), ex=RESULT_TTL)


def results(connection: redis.Redis) -> list[Proof]:
    """Return the last result of each experiment in each delivery mode (those run within RESULT_TTL)."""
    names = [keys.proof_result(experiment, delivery.value) for experiment in EXPERIMENTS for delivery in Delivery]
    return [proof for raw in connection.mget(names) if (proof := Proof.parse(str(raw) if raw else None)) is not None]
