"""What a running worker knows about itself, shared by its loop, its settler and its heartbeat."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from shared.core.settings import Delivery, Settings


def default_name() -> str:
    """Name a worker after its host and pid (stable for a container's PID 1)."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Running(NamedTuple):
    """The message the handler runs now: what the watchdog needs to take it back."""

    id: str
    entry: str
    #: When its run started (seconds since the epoch), and when it must end (None: no limit).
    since: float
    deadline: float | None
    #: The queue it came from.
    queue: str = ""


@dataclass
class WorkerState:
    """A worker's name and identity, the message in hand, and how many it has stored."""

    name: str
    settings: Settings
    #: The queues it serves, in the order it names them.
    queues: tuple[str, ...] = ()
    started_at: float = field(default_factory=time.time)
    #: The id of the message the handler is running, if any.
    current: str | None = None
    #: Messages done and stored.
    processed: int = 0
    #: The run in progress (set as one value: the watchdog's thread reads it).
    running: Running | None = None
    #: Since when (seconds since the epoch) the handler has been stuck past its deadline, its message taken back.
    stuck_since: float | None = None

    @property
    def reliable(self) -> bool:
        """Tell whether the worker takes messages reliably (BLMOVE/TAKE) rather than with BRPOP."""
        return self.settings.worker_delivery is Delivery.RELIABLE

    def identity(self) -> dict[str, str]:
        """Return what the heartbeat publishes about this worker besides its pulse."""
        return {"host": socket.gethostname(), "pid": str(os.getpid()),
                "delivery": self.settings.worker_delivery.value,
                "queue": ",".join(self.queues or (self.settings.queue_name,)),
                "started_at": f"{self.started_at:.3f}"}
