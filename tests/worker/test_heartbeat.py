"""Heartbeat and reaper logic with fakeredis (the server is not the point; the worker tests use a real one)."""

from __future__ import annotations

import dataclasses
import time

import fakeredis
import pytest

from shared.core import keys
from shared.core.settings import Settings
from shared.messages.queue import MessageQueue
from shared.messages.timings import Timings
from worker.heartbeat import Heartbeat
from worker.reaper import Reaper
from worker.state import WorkerState


class Reclaims:
    """Stands in for MessageQueue: records which workers were reclaimed."""

    def __init__(self, name: str = "fila") -> None:
        self.name = name
        self.reclaimed: list[str] = []

    def reclaim(self, worker: str, reason: str, by: str = "") -> tuple[int, int]:
        self.reclaimed.append(worker)
        return 3, 0


@pytest.fixture
def client():
    return fakeredis.FakeRedis(decode_responses=True)


def beating(client, name: str, ttl: float = 10.0) -> tuple[Heartbeat, Reaper, Reclaims]:
    state = WorkerState(name, dataclasses.replace(Settings(), heartbeat_ttl=ttl))
    reclaims = Reclaims()
    return (Heartbeat(client, state, {state.settings.queue_name: Timings()}, [MessageQueue(client, state.settings)]),
            Reaper(client, state, [reclaims]), reclaims)


def test_beat_registers_with_a_ttl_and_publishes_the_message_in_hand(client):
    heartbeat, _, _ = beating(client, "w1")
    heartbeat.state.current = "01M8AKS6Q7JGTGH5J7BPCXBTED"
    heartbeat.beat()
    data = client.hgetall(keys.worker("w1"))
    assert data["current"] == "01M8AKS6Q7JGTGH5J7BPCXBTED" and data["delivery"] == "reliable"
    assert 0 < client.pttl(keys.heartbeat("w1")) <= 10_000
    assert client.pttl(keys.worker("w1")) == -1  # what it is doing outlives the heartbeat: a lost worker shows
    assert client.smembers(keys.WORKERS) == {"w1"}
    heartbeat.deregister()
    assert client.smembers(keys.WORKERS) == set() and not client.exists(keys.worker("w1"), keys.heartbeat("w1"))


def test_a_worker_with_messages_in_flight_stays_registered_for_the_reaper(client):
    heartbeat, _, _ = beating(client, "w1")
    heartbeat.beat()
    client.rpush(keys.processing("w1"), "entry")
    heartbeat.deregister()
    assert client.smembers(keys.WORKERS) == {"w1"} and client.exists(keys.worker("w1"))
    assert not client.exists(keys.heartbeat("w1"))  # no more beats: the next reaper takes what it holds


def test_only_a_worker_connected_for_a_whole_ttl_reaps_and_one_at_a_time(client):
    first, first_reaper, reclaims = beating(client, "alive", ttl=0.3)
    second, second_reaper, other = beating(client, "also-alive", ttl=0.3)
    client.sadd(keys.WORKERS, "dead")  # registered, no heartbeat: dead
    client.hset(keys.worker("dead"), "host", "gone")
    first.beat()
    second.beat()
    assert first_reaper.reap() == 0  # connected for less than a TTL: the dead may just be restarting
    assert second_reaper.reap() == 0
    time.sleep(0.31)
    first.beat()
    second.beat()
    assert first_reaper.reap() == 1
    assert second_reaper.reap() == 0  # the lock: one reaper per round
    assert reclaims.reclaimed == ["dead"] and other.reclaimed == []
    assert client.smembers(keys.WORKERS) == {"alive", "also-alive"} and not client.exists(keys.worker("dead"))


def test_a_dead_worker_of_a_queue_the_reaper_does_not_know_is_left_to_one_that_does(client):
    """`fila prove` runs workers of its own queue beside the deployment's: their messages must not be reclaimed
    onto a queue of the deployment, nor their registration dropped before a reaper of their queue comes."""
    live, reaper, reclaims = beating(client, "live", ttl=0.2)
    for name, served in (("foreign", "prove"), ("mixed", "fila,prove"), ("ours", "fila")):
        client.sadd(keys.WORKERS, name)
        client.hset(keys.worker(name), "queue", served)
    live.beat()
    reaper.reap()
    time.sleep(0.21)
    live.beat()
    assert reaper.reap() == 1 and reclaims.reclaimed == ["ours"]
    assert client.smembers(keys.WORKERS) == {"live", "foreign", "mixed"}
    assert not client.exists(keys.REAPER_LOCK)  # left to the next reaper at once, not held a whole round
    state = WorkerState("prover", dataclasses.replace(Settings(), heartbeat_ttl=0.2))
    theirs = Reclaims("prove")
    prover = Reaper(client, state, [Reclaims(), theirs])
    Heartbeat(client, state, {"fila": Timings()}, [MessageQueue(client, state.settings)]).beat()
    prover.reap()
    time.sleep(0.21)
    live.beat()
    assert prover.reap() == 2 and sorted(theirs.reclaimed) == ["foreign", "mixed"]
