"""A message's story as people read it: each step said in plain words, with the Redis commands and keys it used.

The steps themselves are stored by shared/messages/timeline.py; this module only tells them, for
GET /api/messages/<id>/timeline, `fila explain <id>` and the console. A step's commands are not
stored: they are named from the step and the queue, after the scripts' own KEYS layouts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from shared.core import keys
from shared.core.ids import id_second
from shared.messages.monitor import QueueMonitor
from shared.messages.timeline import STEPS_MAX, Step


def _dead(queue: str, message_id: str) -> list[str]:
    return [f"ZADD {keys.dead_index(queue)} <now ms> {message_id}",
            f"HSET {keys.dead_letters(queue)} {message_id} <record with the envelope>",
            f"ZADD {keys.dead_group_prefix(queue)}<group> <now ms> {message_id}",
            f"HDEL {keys.pending(queue)} {message_id}"]


def _retry(queue: str, message_id: str, due: bool) -> list[str]:
    if due:
        return [f"ZADD {keys.scheduled(queue)} <due ms> {message_id}",
                f"HSET {keys.scheduled_envelopes(queue)} {message_id} <envelope>"]
    return [f"LPUSH {queue} <envelope, attempts + 1>", f"HSET {keys.pending(queue)} {message_id} ''"]


def commands(found: dict[str, Any], message_id: str, queue: str, default_queue: str) -> dict[str, Any]:
    """Name the script (or native command) a step ran, and the Redis commands and keys it used."""
    kind, worker = found.get("step"), str(found.get("worker") or "<worker>")
    own = "" if queue == default_queue else queue  # the default queue's processing lists keep their first name
    processing = keys.processing(worker, own)
    pending = keys.pending(queue)
    result = f"HSET {keys.results_prefix(queue)}<minute> {message_id} <record>"
    listed = str(found.get("list") or queue)
    if kind == Step.ENQUEUED:
        via = found.get("via")
        return {"script": {"FIRE": "FIRE (lua/fire.lua)", "ENQUEUE_ONCE": "ENQUEUE_ONCE (lua/enqueue_once.lua)"}.get(
                    str(via), "ENQUEUE (lua/enqueue.lua)"),
                "commands": [f"LPUSH {listed} <envelope>", f"HSET {pending} {message_id} ''",
                             f"HINCRBY {keys.stats(queue)} enqueued 1", f"LPUSH {keys.bell(queue)} <ring>",
                             f"HSET {keys.timeline(id_second(message_id))} {message_id} <this step>"]}
    if kind == Step.SCHEDULED:
        return {"script": "SCHEDULE (lua/schedule.lua)",
                "commands": [f"ZADD {keys.scheduled(queue)} <due ms> {message_id}",
                             f"HSET {keys.scheduled_envelopes(queue)} {message_id} <envelope>",
                             f"HSET {pending} {message_id} @<due ms>"]}
    if kind == Step.PROMOTED:
        return {"script": "PROMOTE (lua/promote.lua)",
                "commands": [f"ZRANGEBYSCORE {keys.scheduled(queue)} -inf <now ms> LIMIT 0 <step>",
                             f"ZREM {keys.scheduled(queue)} {message_id}",
                             f"HDEL {keys.scheduled_envelopes(queue)} {message_id}",
                             f"LPUSH {listed} <envelope>", f"HSET {pending} {message_id} ''"]}
    if kind == Step.TAKEN:
        via = found.get("via")
        claim = f"HSET {pending} {message_id} {worker}"
        if via == "BLMOVE":
            return {"script": "BLMOVE, then CLAIM (lua/claim.lua)",
                    "commands": [f"BLMOVE {queue} {processing} RIGHT RIGHT <timeout>", claim]}
        if via == "BRPOP":
            return {"script": "BRPOP, then CLAIM (lua/claim.lua)", "commands": [f"BRPOP {queue} <timeout>", claim]}
        if via == "POP":
            return {"script": "POP (lua/pop.lua)", "commands": [f"RPOP {listed} <batch>", claim]}
        return {"script": "TAKE (lua/take.lua), or BLMOVE then CLAIM when it waited for a message" if not via
                else "TAKE (lua/take.lua)",
                "commands": [f"LRANGE {listed} -<batch> -1", f"LTRIM {listed} 0 -<batch + 1>",
                             f"RPUSH {processing} <the batch>", claim]}
    release = (f"LTRIM {processing} <batch> -1" if found.get("via") in ("TAKE", "BLMOVE", None)
               else f"HDEL {pending} {message_id}")
    if kind == Step.DONE:
        return {"script": "SETTLE (lua/settle.lua)",
                "commands": [result, release, f"HDEL {pending} {message_id}", f"HINCRBY {keys.stats(queue)} done 1"]}
    if kind == Step.FAILED:
        by_watchdog = found.get("after") == Step.TIMED_OUT
        return {"script": "ABANDON (lua/abandon.lua)" if by_watchdog else "SETTLE (lua/settle.lua)",
                "commands": [result, release, *_retry(queue, message_id, bool(found.get("due_at")))]}
    if kind in (Step.DEAD, Step.EXPIRED):
        script = {"reclaimed": "RECLAIM (lua/reclaim.lua)", "timed_out": "ABANDON (lua/abandon.lua)"}.get(
            str(found.get("after")), "SETTLE (lua/settle.lua)")
        return {"script": script, "commands": [release, *_dead(queue, message_id)]}
    if kind == Step.TIMED_OUT:
        return {"script": "ABANDON (lua/abandon.lua)",
                "commands": [f"LRANGE {processing} 0 -1", f"RPUSH {queue} <the rest of the batch>",
                             f"DEL {processing}", result]}
    if kind == Step.RECLAIMED:
        dead_processing = keys.processing(str(found.get("from") or "<dead worker>"), own)
        return {"script": "RECLAIM (lua/reclaim.lua)",
                "commands": [f"LRANGE {dead_processing} 0 <chunk>", f"RPUSH {queue} <envelope, attempts + 1>",
                             f"LTRIM {dead_processing} <chunk> -1", f"HSET {pending} {message_id} ''"]}
    if kind == Step.GIVEN_BACK:
        return {"script": "GIVE_BACK (lua/give_back.lua)",
                "commands": [f"LTRIM {processing} 0 -<n + 1>", f"RPUSH {queue} <envelope>",
                             f"HSET {pending} {message_id} ''"]}
    if kind == Step.REQUEUED:
        return {"script": "REQUEUE_DEAD (lua/requeue_dead.lua)",
                "commands": [f"ZREM {keys.dead_index(queue)} {message_id}",
                             f"HDEL {keys.dead_letters(queue)} {message_id}", f"LPUSH {queue} <envelope, attempts 0>",
                             f"HSET {pending} {message_id} ''"]}
    if kind == Step.CANCELLED:
        return {"script": "CANCEL (lua/cancel.lua)",
                "commands": [f"ZREM {keys.scheduled(queue)} {message_id}",
                             f"HDEL {keys.scheduled_envelopes(queue)} {message_id}", f"HDEL {pending} {message_id}"]}
    return {"script": "DROP_DEAD (lua/drop_dead.lua)",
            "commands": [f"ZREM {keys.dead_index(queue)} {message_id}",
                         f"HDEL {keys.dead_letters(queue)} {message_id}",
                         f"ZREM {keys.dead_group_prefix(queue)}<group> {message_id}"]}


def says(found: dict[str, Any]) -> str:
    """Say a step in plain words."""
    kind, get = found.get("step"), found.get
    attempt = f"attempt {get('attempt')}"
    error = str(get("error") or "")[:300]
    trace = f", trace {get('trace')}" if get("trace") else ""
    if kind == Step.ENQUEUED:
        return f"enqueued on {get('queue')} by {get('by') or 'a producer'}" + (
            f" ({get('route')})" if get("route") else "") + (
            f", priority {get('priority')}" if get("priority") else "") + trace
    if kind == Step.SCHEDULED:
        return f"scheduled on {get('queue')} by {get('by') or 'a producer'}, due at {_when(get('due_at'))}{trace}"
    if kind == Step.PROMOTED:
        return f"due: moved from the scheduled set onto {get('queue')}"
    if kind == Step.TAKEN:
        how = f" with {get('via')} (a batch of {get('batch') or 1})" if get("via") else ""
        return f"taken by {get('worker')}{how}, {attempt}"
    if kind == Step.DONE:
        return f"done by {get('worker')} in {get('ms')} ms ({attempt})"
    if kind == Step.FAILED:
        again = f"retry at {_when(get('due_at'))}" if get("due_at") else "retry at once"
        return f"{attempt} failed" + (f" after {get('ms')} ms" if get("ms") is not None else "") + f": {error}; {again}"
    if kind == Step.DEAD:
        return f"dead-lettered after {attempt}: {error}"
    if kind == Step.EXPIRED:
        return "expired before it ran (it waited past its ttl_ms): dead-lettered"
    if kind == Step.TIMED_OUT:
        return f"ran past its timeout on {get('worker')} ({get('ms')} ms): the watchdog took it back"
    if kind == Step.RECLAIMED:
        return f"its worker {get('from')} died holding it: {get('by') or 'a reaper'} put it back ({attempt} counted)"
    if kind == Step.GIVEN_BACK:
        return f"{get('worker')} stopped warm and put it back, not run"
    if kind == Step.REQUEUED:
        return f"requeued from the dead letters by {get('by') or 'an operator'}, attempts reset"
    if kind == Step.CANCELLED:
        return f"cancelled by {get('by') or 'an operator'} before it ran"
    return f"deleted from the dead letters by {get('by') or 'an operator'}"


def _when(at: object) -> str:
    """Write a time (seconds since the epoch) as UTC ISO 8601, to the millisecond."""
    if not isinstance(at, (int, float)):
        return "?"
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def story(message_id: str, steps: list[dict[str, Any]], now: dict[str, Any] | None, default_queue: str,
          ttl: int) -> dict[str, Any]:
    """Return a message's timeline as the API shows it: each step said, with its Redis commands, and where it is now."""
    queue = str((now or {}).get("queue") or next((s["queue"] for s in steps if s.get("queue")), default_queue))
    told = [{**found, "time": _when(found.get("at")), "says": says(found),
             "redis": commands(found, message_id, queue, default_queue)} for found in [*steps, *derived(steps, now)]]
    return {"id": message_id, "queue": queue, "now": now, "steps": told, "count": len(told),
            "complete": bool(steps) and steps[0].get("step") in (Step.ENQUEUED, Step.SCHEDULED),
            "retention_s": ttl, "steps_max": STEPS_MAX}


def derived(steps: list[dict[str, Any]], now: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Return the `taken` and `done` of a message's last run when only its record holds them.

    A worker writes nothing for a first run that is done (shared/messages/queue.py, note_settled):
    the record has who ran it, when it started and ended, and how long the handler took.
    """
    if not now or now.get("status") != "done" or (steps and steps[-1].get("step") == Step.DONE):
        return []
    ran = {"worker": now.get("worker"), "attempt": now.get("attempts"), "derived": True}
    return [{"step": Step.TAKEN.value, "at": now.get("started_at"), **ran},
            {"step": Step.DONE.value, "at": now.get("finished_at"), **ran, "ms": now.get("ms")}]


def locate(monitors: Iterable[QueueMonitor], message_id: str) -> dict[str, Any] | None:
    """Return where a message is now (as GET /api/messages/<id>) with its queue; None when no queue knows it."""
    for monitor in monitors:
        info = monitor.message(message_id)
        if info is not None:
            return {**info, "queue": monitor.name}
    return None


def lines(told: dict[str, Any], with_commands: bool = True) -> list[str]:
    """Write a story (from `story()`) for a terminal: where the message is, then a line a step and its commands."""
    now = told["now"]
    where = (f"{now['status']}" + (f" (worker {now['worker']})" if now.get("worker") else "")
             + (f", error: {now['error']}" if now.get("error") else "")) if now else "no record (it expired)"
    out = [f"message {told['id']} on {told['queue']}: {where}"]
    if not told["steps"]:
        out.append("  no steps kept (TIMELINE_TTL is 0, or they expired)")
    elif not told["complete"]:
        out.append(f"  its first steps are gone (it keeps its last {told['steps_max']})")
    for found in told["steps"]:
        out.append(f"  {found['time']}  {found['says']}")
        if with_commands:
            out.append(f"      {found['redis']['script']}")
            out.extend(f"        {command}" for command in found["redis"]["commands"])
    return out
