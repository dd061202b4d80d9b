"""Every Redis key fila uses, and which names a user may not write."""

from __future__ import annotations

#: All of fila's internal keys live under this prefix.
PREFIX = "fila:"
#: The handout's hit counter (`/`).
HITS = "hits"
#: The handout's Fibonacci cache, `fib:<n>`.
FIB_PREFIX = "fib:"
#: RQ's own keys.
RQ_PREFIX = "rq:"

#: Set of registered message workers.
WORKERS = f"{PREFIX}workers"
#: Lock held by the one worker that reaps dead workers.
REAPER_LOCK = f"{PREFIX}reaper-lock"
#: Latest results, newest first (capped).
RECENT = f"{PREFIX}recent"
#: Operators' sessions (Flask-Session adds the session id).
SESSION_PREFIX = f"{PREFIX}session:"
#: Rate-limit counters (Flask-Limiter's storage).
LIMITS_PREFIX = f"{PREFIX}limits"
#: API tokens by the hash of their secret, with their TTL (the tokens index lists them).
TOKENS = f"{PREFIX}tokens"
#: The handout-style rate-limit demonstration's counters, one per client and window: `limite:<client>`.
LIMIT_DEMO_PREFIX = "limite:"


def token(digest: str) -> str:
    """Name the key of an API token (field: the SHA-256 of its secret; the secret itself is never stored)."""
    return f"{PREFIX}token:{digest}"


def limit_demo(client: str) -> str:
    """Name the demonstration's counter of a client's requests in the current window."""
    return f"{LIMIT_DEMO_PREFIX}{client}"


def fib(n: int) -> str:
    """Name the cache key of Fibonacci(n)."""
    return f"{FIB_PREFIX}{n}"


def results_prefix(queue: str) -> str:
    """Name the prefix of a queue's result buckets (Lua scripts append the minute)."""
    return f"{PREFIX}results:{queue}:"


def results(queue: str, minute: int) -> str:
    """Name the hash holding the records of the messages enqueued in one minute (field: message id)."""
    return f"{results_prefix(queue)}{minute}"


def worker(name: str) -> str:
    """Name a worker's hash: who it is, what it holds, what it did (kept until it leaves or is reaped)."""
    return f"{PREFIX}worker:{name}"


def heartbeat(name: str) -> str:
    """Name a worker's heartbeat: a key with a TTL that is there while the worker lives."""
    return f"{PREFIX}heartbeat:{name}"


def processing(name: str, queue: str = "") -> str:
    """Name a worker's in-flight list (reliable delivery): for the default queue, or for another named one."""
    return f"{PREFIX}processing:{name}" if not queue else f"{PREFIX}processing:{name}:{queue}"


def timeline(second: int) -> str:
    """Name the hash of the timelines of the messages made in one second (field: message id; value: its steps,
    oldest first, one per line: shared/messages/timeline.py), kept TIMELINE_TTL after its last write."""
    return f"{PREFIX}timeline:{second}"


def proof_runs(run: str) -> str:
    """Name the hash where `fila prove`'s handler counts each numbered message's runs (field: its number)."""
    return f"{PREFIX}prove:runs:{run}"


def proof_result(experiment: str, delivery: str) -> str:
    """Name the last result of one `fila prove` experiment in one delivery mode (JSON: shared/messages/proof.py)."""
    return f"{PREFIX}prove:result:{experiment}:{delivery}"


def high(queue: str) -> str:
    """Name a queue's list of `"priority": "high"` messages (served before the queue list)."""
    return f"{PREFIX}priority:{queue}:high"


def low(queue: str) -> str:
    """Name a queue's list of `"priority": "low"` messages (served once the queue list is empty)."""
    return f"{PREFIX}priority:{queue}:low"


def bell(queue: str) -> str:
    """Name a queue's bell: a list of at most one ring, pushed when messages arrive; workers of several queues
    wait on their queues' bells (BLMPOP), then TAKE."""
    return f"{PREFIX}bell:{queue}"


def dead_index(queue: str) -> str:
    """Name a queue's dead-letter index: a sorted set of ids, scored by when they died (ms)."""
    return f"{PREFIX}dead:{queue}"


def dead_letters(queue: str) -> str:
    """Name the hash of a queue's dead letters: id -> the record, with the envelope to requeue."""
    return f"{PREFIX}dead-letters:{queue}"


def dead_groups(queue: str) -> str:
    """Name the hash of a queue's dead-letter groups (triage): group id -> the error's signature."""
    return f"{PREFIX}dead-groups:{queue}"


def dead_group_prefix(queue: str) -> str:
    """Name the prefix of a queue's dead-letter group sets (Lua scripts append the group id)."""
    return f"{PREFIX}dead-group:{queue}:"


def dead_group(queue: str, group: str) -> str:
    """Name one dead-letter group: a sorted set of ids, scored by when they died (ms)."""
    return f"{dead_group_prefix(queue)}{group}"


def dead_group_of(queue: str) -> str:
    """Name the hash that says which group each dead letter is filed under: id -> group id."""
    return f"{PREFIX}dead-group-of:{queue}"


def pending(queue: str) -> str:
    """Name the hash of ids enqueued and not yet settled: id -> the worker holding it ('' while queued)."""
    return f"{PREFIX}pending:{queue}"


def scheduled(queue: str) -> str:
    """Name a queue's scheduled messages: a sorted set of ids, scored by when each is due (ms).

    Delayed messages wait here, and failed ones their retry's backoff; any worker moves the due
    ones onto the queue list (lua/promote.lua). Their envelopes sit in `scheduled_envelopes`, and
    their pending entry reads `@<due ms>` meanwhile.
    """
    return f"{PREFIX}scheduled:{queue}"


def scheduled_envelopes(queue: str) -> str:
    """Name the hash of a queue's scheduled envelopes (id -> envelope), beside `scheduled`."""
    return f"{PREFIX}scheduled-envelopes:{queue}"


def idempotency(queue: str, key_digest: str) -> str:
    """Name what an `Idempotency-Key` enqueued (the SHA-256 of the key, never the key itself), kept IDEMPOTENCY_TTL."""
    return f"{PREFIX}idempotency:{queue}:{key_digest}"


def bucket(queue: str) -> str:
    """Name a queue's token bucket (QUEUE_RATE_LIMIT): a hash of the tokens left and when they were counted."""
    return f"{PREFIX}bucket:{queue}"


def schedules(queue: str) -> str:
    """Name the hash of a queue's periodic schedules (name -> definition, shared/messages/periodic.py)."""
    return f"{PREFIX}schedules:{queue}"


def schedules_next(queue: str) -> str:
    """Name the sorted set of when each periodic schedule of a queue fires next (name -> ms)."""
    return f"{PREFIX}schedules-next:{queue}"


def schedules_fired(queue: str) -> str:
    """Name the hash counting the messages each periodic schedule of a queue has sent (name -> count)."""
    return f"{PREFIX}schedules-fired:{queue}"


def paused(queue: str) -> str:
    """Name the flag that pauses a queue: workers take nothing while it exists."""
    return f"{PREFIX}paused:{queue}"


def history(queue: str, hour: int) -> str:
    """Name the hash of one hour's counts, by minute (fields `<minute>:done`, `:failed`, `:dead`; kept a day).

    One key an hour, not one a minute: a student's `KEYS *` shows a day of history as 25 keys.
    """
    return f"{PREFIX}history:{queue}:{hour}"


def stats(queue: str) -> str:
    """Name a queue's counters hash (enqueued, done, failed, dead...)."""
    return f"{PREFIX}stats:{queue}"


def rate(queue: str, minute: int) -> str:
    """Name the hash of one minute's done counts, by second (field: the second); one key a minute, not a second."""
    return f"{PREFIX}rate:{queue}:{minute}"


def timings(queue: str) -> str:
    """Name the hash holding a queue's processing-time histogram (bucket index -> count)."""
    return f"{PREFIX}timings:{queue}"


#: Prefixes a user may not write under, and whose keys they are.
RESERVED_PREFIXES = (PREFIX, RQ_PREFIX, FIB_PREFIX, LIMIT_DEMO_PREFIX)


def reserved_owner(name: str, queue: str | tuple[str, ...], *, allow_queue: bool = False) -> str | None:
    """Return what owns `name` when a user may not write it (the queue, `hits`, or a reserved prefix), else None.

    The message queue list itself is allowed when `allow_queue` is set: it is how
    the handout's `/push/fila/<valor>` feeds the workers.
    """
    if name == queue or (isinstance(queue, tuple) and name in queue):
        return None if allow_queue else name
    if name == HITS:
        return HITS
    return next((prefix for prefix in RESERVED_PREFIXES if name.startswith(prefix)), None)
