"""Dead-letter triage on a real redis-server: groups filed as letters die (SETTLE, RECLAIM, ABANDON) and acted on."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from shared.core import keys
from shared.messages import failure
from shared.messages.envelope import decode
from shared.messages.queue import MessageQueue
from shared.messages.triage import group_of, signature
from tests.support.polling import wait_for
from tests.support.processes import start_worker


@pytest.mark.parametrize(("error", "expected"), [
    ("RuntimeError: poison message", "RuntimeError: poison message"),
    ("KeyError: 'user 41'", "KeyError: '…'"),
    ("worker vm-27021 died while processing", "worker <id> died while processing"),
    ("ValueError: port 8080 refused\nTraceback...", "ValueError: port <n> refused"),
    ("lookup of 01M97EZ640C2VHM0EZZXGNH3G5 failed", "lookup of <id> failed"),
])
def test_a_signature_keeps_the_error_and_drops_what_varies(error, expected):
    assert signature(error) == expected
    assert group_of(error)[0] == group_of(error.replace("41", "7").replace("8080", "443"))[0]


def kill(settings, rdb, worker: str, count: int) -> list[str]:
    """Dead-letter `count` messages the way fila does when a worker dies holding them on their last attempt."""
    queue = MessageQueue(rdb, dataclasses.replace(settings, max_attempts=1))
    ids = queue.enqueue([json.dumps({"n": i}) for i in range(count)])
    assert len(queue.take(worker, count) or []) == count
    queue.reclaim(worker, f"worker {worker} died while processing")
    return ids


def test_groups_are_filed_as_letters_die_and_a_group_is_requeued_or_deleted(client, settings, rdb):
    died = kill(settings, rdb, "w-1234", 30) + kill(settings, rdb, "w-99", 10)  # one signature: worker w-<n> died
    poisoned = dataclasses.replace(settings, handler="tests.support.handlers:poison", max_attempts=1,
                                   log_messages=False)
    raised = MessageQueue(rdb, poisoned).enqueue([json.dumps({"poison": "raise", "i": i}) for i in range(5)])
    worker = start_worker(poisoned)
    try:
        wait_for(lambda: rdb.zcard(keys.dead_index("fila")) == 45, timeout=20, message="45 dead letters")
    finally:
        worker.stop()
    listed = client.get("/api/dead/groups").get_json()
    assert listed["total"] == 2 and [g["count"] for g in listed["groups"]] == [40, 5]
    reaped, poison = listed["groups"]
    assert reaped["signature"] == "worker w-<n> died while processing"
    assert poison["signature"] == "RuntimeError: poison message" and poison["sample_error"] == poison["signature"]
    assert poison["sample_id"] in raised and reaped["first_at"] <= reaped["last_at"]

    before = {key: rdb.type(key) for key in rdb.keys("*")}
    dry = client.post(f"/api/dead/groups/{reaped['group']}/requeue", json={"dry_run": True}).get_json()
    assert dry == {"group": reaped["group"], "dry_run": True, "would_be_requeued": 40}
    assert {key: rdb.type(key) for key in rdb.keys("*")} == before and rdb.llen("fila") == 0  # nothing moved
    assert client.post(f"/api/dead/groups/{poison['group']}/delete", json={}).status_code == 400  # no confirm
    assert client.post("/api/dead/groups/nothex/requeue", json={}).status_code == 400
    assert client.post(f"/api/dead/groups/{'0' * 16}/requeue", json={}).status_code == 404

    requeued = client.post(f"/api/dead/groups/{reaped['group']}/requeue", json={}).get_json()
    assert requeued == {"group": reaped["group"], "requeued": 40, "remaining": 0}
    assert rdb.llen("fila") == 40 and sorted(decode(e, time.time()).id for e in rdb.lrange("fila", 0, -1)) == \
        sorted(died)
    assert [g["group"] for g in client.get("/api/dead/groups").get_json()["groups"]] == [poison["group"]]
    deleted = client.post(f"/api/dead/groups/{poison['group']}/delete", json={"confirm": True}).get_json()
    assert deleted == {"group": poison["group"], "deleted": 5, "remaining": 0}
    assert client.get("/api/dead/groups").get_json() == {"queue": "fila", "groups": [], "total": 0}
    assert rdb.zcard(keys.dead_index("fila")) == 0
    # Nothing of the groups is left behind.
    assert not rdb.keys(f"{keys.dead_group_prefix('fila')}*") and not rdb.exists(keys.dead_group_of("fila"))


def test_a_deleted_purged_or_timed_out_letter_leaves_its_group_true(client, settings, rdb):
    ids = kill(settings, rdb, "w-1", 3)
    (group,) = client.get("/api/dead/groups").get_json()["groups"]
    assert client.delete(f"/api/dead/{ids[0]}").status_code == 200
    assert client.get("/api/dead/groups").get_json()["groups"][0]["count"] == 2
    assert client.post("/api/dead/purge", json={"confirm": True}).get_json()["purged"] == 2
    assert client.get("/api/dead/groups").get_json()["total"] == 0
    assert not rdb.exists(keys.dead_group("fila", group["group"]))
    # ABANDON (a handler past its timeout, on its last attempt) files its letter under "timeout".
    queue = MessageQueue(rdb, dataclasses.replace(settings, max_attempts=1))
    (stuck,) = queue.enqueue(['"hang"'])
    (entry,) = queue.take("w-2", 1) or []
    settled, wait_ms = failure.route(decode(entry, time.time()), "timeout", "w-2", 1.0, queue.settings, time.time())
    assert wait_ms == -1 and queue.abandon("w-2", settled, reliable=True)
    (timed_out,) = client.get("/api/dead/groups").get_json()["groups"]
    assert (timed_out["signature"], timed_out["count"], timed_out["sample_id"]) == ("timeout", 1, stuck)


def test_the_cli_lists_the_groups_and_requeues_or_deletes_one(settings, rdb):
    import subprocess

    from tests.support.processes import BIN, child_env

    kill(settings, rdb, "w-5", 4)
    queue = MessageQueue(rdb, dataclasses.replace(settings, max_attempts=1))
    (stuck,) = queue.enqueue(['"hang"'])
    (entry,) = queue.take("w-6", 1) or []
    settled, _ = failure.route(decode(entry, time.time()), "timeout", "w-6", 1.0, queue.settings, time.time())
    queue.abandon("w-6", settled, reliable=True)
    env = child_env(settings, {"LANG": "C.UTF-8", "FILA_LANGUAGE": "en"})
    fila = [str(BIN / "fila"), "dead"]
    listed = subprocess.run([*fila, "groups"], env=env, capture_output=True, text=True, check=True).stdout
    lines = listed.splitlines()
    assert lines[-1] == "2 group(s) in fila" and "worker w-<n> died while processing" in lines[0]
    reaped, timed_out = (line.split()[0] for line in lines[:2])
    dry = subprocess.run([*fila, "requeue", reaped, "--dry-run"], env=env, capture_output=True, text=True)
    assert dry.stdout.strip() == f"4 dead letter(s) in group {reaped}" and rdb.llen("fila") == 0
    subprocess.run([*fila, "requeue", reaped], env=env, capture_output=True, text=True, check=True)
    assert rdb.llen("fila") == 4
    refused = subprocess.run([*fila, "delete", timed_out], env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "--yes" in refused.stderr and rdb.zcard(keys.dead_index("fila")) == 1
    subprocess.run([*fila, "delete", timed_out, "--yes"], env=env, capture_output=True, text=True, check=True)
    assert rdb.zcard(keys.dead_index("fila")) == 0 and not rdb.hexists(keys.dead_letters("fila"), stuck)
