"""Dead-letter triage at 1,000,000 dead letters (`make bench BENCH_ARGS=triage`): every group operation's longest
Redis call (SLOWLOG), the group requeue's rate, and the memory the groups add per dead letter."""

from __future__ import annotations

import dataclasses
import json
import time

import redis

from benchmarks.scale import LIMIT_MS, Scale
from benchmarks.table import Row
from shared.core import keys
from shared.core.connection import connect
from shared.core.settings import Settings
from shared.messages.queue import MessageQueue
from shared.messages.triage import group_of

#: Dead workers whose letters make the groups: ten signatures, dead letters spread over them.
REASONS = [f"worker host-1 died while processing: {cause}" for cause in (
    "out of memory", "disk full", "segmentation fault", "killed", "lost its network", "evicted", "oom killer",
    "node drained", "preempted", "power loss")]
STEP = 1000


def fill(settings: Settings, size: int, step: int = STEP) -> None:
    """Make `size` dead letters the way fila does (a dead worker's last attempts), `step` at a time, over REASONS."""
    queue = MessageQueue(connect(settings), dataclasses.replace(settings, max_attempts=1))
    body = json.dumps({"text": "dead"})
    for start in range(0, size, step):
        queue.enqueue([body] * step)
        queue.take("bench-dying", step)
        queue.reclaim("bench-dying", REASONS[(start // step) % len(REASONS)])


def triage(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """The triage section of `make bench`."""
    from web import create_app

    size = 100_000 if quick else 1_000_000
    client.flushall()
    before = int(client.info("memory")["used_memory"])
    began = time.perf_counter()
    fill(settings, size)
    filling = time.perf_counter() - began
    names = [*(keys.dead_group("fila", group_of(reason)[0]) for reason in REASONS), keys.dead_group_of("fila"),
             keys.dead_groups("fila")]
    grouped = sum(int(client.memory_usage(name) or 0) for name in names)
    total = int(client.info("memory")["used_memory"]) - before
    assert client.zcard(keys.dead_index("fila")) == size
    scale = Scale(client, settings)
    web = create_app({"SETTINGS": settings, "TESTING": True}).test_client()

    def http(operation: str, method: str, path: str, **kwargs: object) -> dict:
        with scale.watch(operation, size):
            reply = web.open(path, method=method, **kwargs)
        assert reply.status_code == 200, (operation, reply.status_code, reply.get_data(as_text=True)[:200])
        return reply.get_json()

    listed = http("GET /api/dead/groups", "GET", "/api/dead/groups")
    assert listed["total"] == len(REASONS), listed["total"]
    first = listed["groups"][0]
    http("POST .../requeue, dry run", "POST", f"/api/dead/groups/{first['group']}/requeue", json={"dry_run": True})
    started = time.perf_counter()
    step = http("POST .../requeue, a step of 10,000", "POST", f"/api/dead/groups/{first['group']}/requeue", json={})
    rate = step["requeued"] / (time.perf_counter() - started)
    http("POST .../delete, a step of 10,000", "POST", f"/api/dead/groups/{listed['groups'][1]['group']}/delete",
         json={"confirm": True})
    some = client.zrange(keys.dead_index("fila"), size // 2, size // 2)[0]
    http("DELETE /api/dead/<id>", "DELETE", f"/api/dead/{some}")
    http("GET /api/painel (with the groups)", "GET", "/api/painel")
    held = settings.worker_batch_max  # the most a worker holds
    with scale.watch(f"a dead worker's {held} letters filed (RECLAIM)", size):
        fill(settings, held, held)
    for m in scale.measures:
        print(f"   {m.operation}: longest {m.longest_ms:.2f} ms ({m.command}), client {m.client_ms:.1f} ms")
    print(f"   filled {size:,} dead letters in {filling:.1f}s; {total / size:.0f} bytes each in all, "
          f"{grouped / size:.0f} of them the groups'")
    worst = max(scale.measures, key=lambda m: m.longest_ms)
    client.flushall()
    return [
        Row("triage", f"longest Redis call of any triage operation at {size:,} dead letters in {len(REASONS)} groups "
                      f"({worst.operation}: {worst.command})", worst.longest_ms, "ms", target=f"<= {LIMIT_MS:g} ms",
            met=worst.longest_ms <= LIMIT_MS, lower_is_better=True),
        Row("triage", "a group requeued, a step of 10,000 (100 a Redis call)", rate, "msg/s"),
        Row("triage", f"memory the groups add per dead letter (group set + group-of hash; {total / size:.0f} bytes a "
                      "dead letter in all)", grouped / size, "bytes", lower_is_better=True),
    ]
