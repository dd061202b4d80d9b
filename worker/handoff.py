"""The hand-off between the worker's loop and its settler: what is to be stored, what waits, and when to resync.

The loop runs a batch while the settler thread stores the one before (worker/settler.py): Redis
spends about as long storing a batch as Python spends running it, so doing both at once nearly
doubles a worker's throughput. This object is the one place they meet:

- `submit` hands a group of results over (and with `wait`, returns once it is stored);
- `hold` keeps a fast batch's last group back, `release` hands it over right after the next TAKE
  (Redis stores batch i while Python runs batch i + 1);
- `resync` is set when storing meets a Redis error or a processing list that disagrees with the
  worker: before it takes again, the loop gives back what its list holds unknown to it;
- `crashed` says the settler met an error it cannot ride out (the worker then stops).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from shared.messages.queue import MessageQueue, Settled
from worker.settler import Settler
from worker.state import WorkerState


class Handoff:
    """Own the settler thread, the held group and the resync flag of one worker."""

    def __init__(self, state: WorkerState, stopping: threading.Event, on_crash: Callable[[], None]):
        self.resync = threading.Event()
        self._held: tuple[MessageQueue, list[str], list[Settled], str] | None = None
        self._settler = Settler(state, stopping, self.resync, on_crash)

    @property
    def crashed(self) -> bool:
        """Tell whether the settler stopped on an error it could not ride out."""
        return self._settler.crashed

    def start(self) -> None:
        """Start the settler thread."""
        self._settler.start()

    def submit(self, messages: MessageQueue, entries: list[str], settled: list[Settled], *,
               wait: bool = False, via: str = "") -> None:
        """Hand a group of a queue over to be stored (waits while the previous one is); `wait`: until it is."""
        self._settler.submit(messages, entries, settled, via)
        if wait:
            self._settler.drain()

    def hold(self, messages: MessageQueue, entries: list[str], settled: list[Settled], via: str = "") -> None:
        """Keep a group back until `release` (the last group of a fast batch)."""
        self._held = (messages, entries, settled, via) if settled else None

    def release(self) -> None:
        """Hand the held group over, if any."""
        if self._held is not None:
            (messages, entries, settled, via), self._held = self._held, None
            self.submit(messages, entries, settled, via=via)

    def drain(self) -> None:
        """Wait until everything handed over is stored."""
        self._settler.drain()

    def needs_resync(self) -> bool:
        """Tell (once) whether the loop must resync its processing list before taking again."""
        if self.resync.is_set():
            self.resync.clear()
            return True
        return False

    def close(self) -> None:
        """Store what is held and pending, then end the settler thread."""
        self.release()
        self._settler.close()
