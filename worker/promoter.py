"""The promoter: every PROMOTE_INTERVAL, send the periodic messages due and move the due scheduled ones."""

from __future__ import annotations

import logging

from shared.messages.periodic import Schedules
from shared.messages.queue import MessageQueue
from shared.messages.schedule import PROMOTE_STEP
from worker.periodic import Periodic

log = logging.getLogger(__name__)

#: Seconds between looks at the scheduled set: a due message waits at most about this long.
PROMOTE_INTERVAL = 0.05
#: Most steps in one tick (PROMOTE_STEP each): a backlog of due messages drains at up to
#: STEPS_MAX * PROMOTE_STEP / PROMOTE_INTERVAL messages a second per worker, and the thread
#: still lets go of the GIL between steps.
STEPS_MAX = 100


class Promoter(Periodic):
    """Every PROMOTE_INTERVAL, move what is due from the scheduled set onto the queue (lua/promote.lua).

    Every worker runs one: the script is atomic, so two never move a message twice, and a worker
    killed between steps leaves each message either scheduled or queued. A pushed message wakes
    the workers blocked in BLMOVE/BRPOP, so a delayed message is not later for an idle fila.
    """

    def __init__(self, name: str, queues: list[MessageQueue]):
        super().__init__(f"promoter-{name}", PROMOTE_INTERVAL)
        self.queues = queues
        self.schedules = [Schedules(queue.redis, queue.settings) for queue in queues]
        #: Messages this worker moved onto the queue since it started.
        self.promoted = 0

    def tick(self) -> None:
        """Send the periodic messages that are due; promote what is due, step by step, while whole steps come out."""
        for schedules in self.schedules:
            schedules.fire_due()
        for queue in self.queues:
            for _ in range(STEPS_MAX):
                moved, _next_due = queue.promote()
                self.promoted += moved
                if moved < PROMOTE_STEP:
                    break
