"""Operators' actions at the same time, on real processes: every message is counted, none lost, none doubled.

3,000 dead letters; then, all at once: two "requeue all" runs in steps (two browsers), a purge in
steps, workers storing the results of what was requeued, and the queue paused and resumed over
and over. At the end each message is either done once or purged, and the counts add up.
"""

from __future__ import annotations

import dataclasses
import threading

import pytest
import requests

from shared.core import keys
from tests.support.polling import wait_for
from tests.support.processes import start_granian, start_worker
from tests.support.redis_server import free_port

pytestmark = pytest.mark.slow

LETTERS = 3000


def steps(session: requests.Session, url: str, payload: dict, counted: str, totals: list[int]) -> None:
    """Run an "all" action to its end, a step at a time, as the console does; add up what each step did."""
    answer = session.post(url, json=payload, timeout=30).json()
    totals.append(answer[counted])
    while answer["remaining"]:
        answer = session.post(url, json={**payload, "until": answer["until"]}, timeout=30).json()
        totals.append(answer[counted])


def test_requeue_purge_pause_and_workers_at_once(settings, rdb):
    settings = dataclasses.replace(settings, max_attempts=1, log_messages=False, heartbeat_ttl=2.0)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = start_granian(settings, port, workers=2, threads=4)
    procs = [web]
    try:
        session = requests.Session()
        poisoner = start_worker(settings, extra_env={"HANDLER": "tests.support.handlers:poison"})
        procs.append(poisoner)
        ids = []
        for start in range(0, LETTERS, 1000):
            reply = session.post(f"{base}/api/messages", json=[{"body": {"poison": "raise", "i": i}}
                                                               for i in range(start, start + 1000)], timeout=30)
            ids += reply.json()["ids"]
        wait_for(lambda: rdb.zcard(keys.dead_index("fila")) == LETTERS, timeout=60, interval=0.2, message="all dead")
        assert poisoner.stop() == 0
        done_before = int(rdb.hget(keys.stats("fila"), "done") or 0)
        procs += [start_worker(settings), start_worker(settings)]  # the default handler: the bodies now succeed

        requeued: list[int] = []
        purged: list[int] = []
        stop = threading.Event()

        def toggle() -> None:
            own = requests.Session()
            while not stop.is_set():
                own.post(f"{base}/api/queues/fila/pause", timeout=10).raise_for_status()
                stop.wait(0.03)
                own.post(f"{base}/api/queues/fila/resume", timeout=10).raise_for_status()
                stop.wait(0.05)

        actions = [threading.Thread(target=steps, args=(requests.Session(), f"{base}/api/dead/requeue",
                                                        {"all": True}, "requeued", requeued)) for _ in range(2)]
        actions.append(threading.Thread(target=steps, args=(requests.Session(), f"{base}/api/dead/purge",
                                                            {"confirm": True}, "purged", purged)))
        pauser = threading.Thread(target=toggle)
        for thread in [*actions, pauser]:
            thread.start()
        for thread in actions:
            thread.join(120)
        stop.set()
        pauser.join(30)
        session.post(f"{base}/api/queues/fila/resume", timeout=10).raise_for_status()

        def settled() -> bool:
            figures = session.get(f"{base}/api/queues", timeout=10).json()["queues"][0]
            return not figures["length"] and not figures["in_flight"]
        wait_for(settled, timeout=120, interval=0.3, message="the requeued messages worked off")

        statuses = [session.get(f"{base}/api/messages/{i}", timeout=10).status_code for i in ids]
        done = sum(1 for i in ids if session.get(f"{base}/api/messages/{i}", timeout=10).json().get("status") == "done")
        stored = int(rdb.hget(keys.stats("fila"), "done")) - done_before
        print(f"\n{LETTERS} dead letters: requeued {sum(requeued)} (two runs: {len(requeued)} steps), purged "
              f"{sum(purged)}; done {done}, results stored {stored}")
        assert sum(requeued) > 0 and sum(purged) > 0  # the actions really overlapped
        assert rdb.zcard(keys.dead_index("fila")) == 0 and rdb.hlen(keys.dead_letters("fila")) == 0
        assert done + sum(purged) == LETTERS  # each message done or purged: none lost
        assert sum(requeued) == done  # none requeued twice...
        assert stored == done  # ...nor run (and stored) twice
        assert statuses.count(404) == sum(purged)  # a purged message is gone for good
    finally:
        for proc in procs:
            proc.stop()
