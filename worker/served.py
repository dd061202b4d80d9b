"""The queues a worker serves (`--queues`, WORKER_QUEUES): each one's objects, and the order it takes from them.

`alta,fila,baixa` is strict priority: every take tries `alta` first. `alta:5,fila:3,baixa:1` is by
weight: 5, 3 and 1 of every 9 messages while all hold some (Order), each take falling back to the
next queue when the chosen one is empty, so no weighted queue starves and no worker idles while
any queue has work.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import redis

from shared.core.settings import Settings
from shared.messages.handlers import Handler, load
from shared.messages.queue import MessageQueue
from shared.messages.timings import Timings
from worker.throttle import Throttle

#: The largest weight a queue may have.
WEIGHT_MAX = 1000


@dataclass
class Served:
    """One queue a worker serves: its settings (its own options applied), list, handler, rate limit and timings."""

    settings: Settings
    messages: MessageQueue
    handler: Handler
    throttle: Throttle | None
    weight: int = 1
    timings: Timings = field(default_factory=Timings)

    @property
    def name(self) -> str:
        """Return the queue's name."""
        return self.messages.name


def parse(spec: str, settings: Settings) -> list[tuple[str, int]]:
    """Read `alta,fila` (priority) or `alta:5,fila:1` (weights) into (queue, weight); weight 0 means priority order.

    Raise ValueError for a queue QUEUES does not declare, a repeated one, a bad weight, or a mix of the two forms.
    """
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    if not parts:
        return [(settings.default_queue, 0)]
    found: list[tuple[str, int]] = []
    for part in parts:
        name, colon, weight = part.partition(":")
        if name not in settings.queue_names:
            raise ValueError(f"queue {name!r} is not declared (QUEUES={','.join(settings.queue_names)})")
        if colon and not (weight.isdigit() and 1 <= int(weight) <= WEIGHT_MAX):
            raise ValueError(f"{part!r}: a weight is a whole number from 1 to {WEIGHT_MAX}")
        found.append((name, int(weight) if colon else 0))
    if len({name for name, _ in found}) != len(found):
        raise ValueError(f"{spec!r} names a queue twice")
    if len({weight == 0 for _, weight in found}) > 1:
        raise ValueError(f"{spec!r}: give every queue a weight (alta:5,fila:1) or none (priority order)")
    return found


def build(connection: redis.Redis, settings: Settings, spec: list[tuple[str, int]],
          stopping: threading.Event) -> list[Served]:
    """Build the served queues, in the order given."""
    served = []
    for name, weight in spec:
        own = settings.for_queue(name)
        throttle = Throttle(connection, own, stopping) if own.queue_rate_limit > 0 else None
        served.append(Served(own, MessageQueue(connection, own), load(own.handler), throttle, weight))
    return served


class Order:
    """The order a worker tries its queues in at each take: fixed (priority), or by weight.

    By weight, the messages each queue has had are counted: the next take tries first the queue
    furthest behind its share (messages had / weight, least first), then the others in that
    order. A queue found empty (or paused) on the way is caught up with the one that gave the
    batch, so that it cannot claim a burst of the others' share when its messages arrive. Counting
    messages, not takes, holds the weights whatever the batch sizes.
    """

    def __init__(self, served: list[Served]):
        self.served = served
        self.weighted = any(each.weight for each in served)
        self._had = [0.0] * len(served)
        self._tried: list[int] = list(range(len(served)))

    def next(self) -> list[Served]:
        """Return the queues to try for the next take, the one furthest behind its share first."""
        if not self.weighted:
            return self.served
        self._tried = sorted(range(len(self.served)), key=lambda i: (self._had[i] / self.served[i].weight, i))
        return [self.served[i] for i in self._tried]

    def most(self, queue: Served, count: int) -> int:
        """Return how many to take from `queue` at most: by weight, its share of a batch of `count` (at least 1).

        A batch of the heaviest queue may be whole; a lighter one's is cut in proportion, so that
        one take never runs far past a queue's share (the weights hold over a few batches, not only
        over many).
        """
        if not self.weighted:
            return count
        heaviest = max(each.weight for each in self.served)
        return max(1, count * queue.weight // heaviest)

    def took(self, queue: Served, count: int) -> None:
        """Count a batch taken from `queue` (after `next`), catching up the queues tried before it."""
        if not self.weighted:
            return
        index = self.served.index(queue)
        level = self._had[index] / queue.weight
        for skipped in self._tried[:self._tried.index(index)]:
            self._had[skipped] = max(self._had[skipped], level * self.served[skipped].weight)
        self._had[index] += count
