"""Store results in the background, in the order they were taken, while the loop runs the next batch.

Redis spends about as long storing a batch as Python spends running it; doing both at once
nearly doubles a worker's throughput. At most one batch waits, so a slow Redis slows the loop
down instead of piling results up in memory.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from shared.queue import Settled

log = logging.getLogger(__name__)

Store = Callable[[list[str], list[Settled]], None]


class Settler(threading.Thread):
    """One thread that calls `store(entries, settled)` for each submitted batch, in order."""

    def __init__(self, name: str, store: Store, on_crash: Callable[[], None]):
        super().__init__(name=f"settler-{name}", daemon=True)
        self.store = store
        self.on_crash = on_crash
        self.crashed = False
        self._batches: queue.Queue[tuple[list[str], list[Settled]] | None] = queue.Queue(maxsize=1)

    def submit(self, entries: list[str], settled: list[Settled]) -> None:
        """Hand a batch over (waits while the previous one is still being stored)."""
        if settled:
            self._batches.put((entries, settled))

    def drain(self) -> None:
        """Wait until every submitted batch is stored."""
        self._batches.join()

    def close(self) -> None:
        """Store what is pending, then end the thread."""
        self._batches.put(None)
        self.join()

    def run(self) -> None:
        """Store batches until closed; on an unexpected error stop the worker (its messages stay in flight)."""
        while True:
            item = self._batches.get()
            try:
                if item is None:
                    return
                if not self.crashed:
                    self.store(*item)
            except Exception:
                log.exception("storing results failed; stopping the worker (its messages stay in flight)")
                self.crashed = True
                self.on_crash()
            finally:
                self._batches.task_done()
