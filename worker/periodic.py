"""A task a worker runs every so often in a thread of its own (the heartbeat, the reaper), riding out Redis outages."""

from __future__ import annotations

import logging
import threading

from shared.core.connection import FULL, TRANSIENT

log = logging.getLogger(__name__)


class Periodic(threading.Thread):
    """Call `tick()` every `interval` seconds until stopped; a Redis outage is said once, not at every tick."""

    def __init__(self, name: str, interval: float):
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self._halt = threading.Event()
        self._failing: str | None = None

    def tick(self) -> None:
        """Do the task once (subclasses)."""
        raise NotImplementedError

    def run(self) -> None:
        """Tick every interval until stopped."""
        while not self._halt.wait(self.interval):
            try:
                self.tick()
            except TRANSIENT as exc:
                what = "redis is full" if isinstance(exc, FULL) else "redis unavailable"
                if self._failing != what:
                    log.warning("%s: %s (%s); going on", self.name, what, exc)
                self._failing = what
                self.on_failure()
            except Exception:
                log.exception("%s failed; going on", self.name)
            else:
                if self._failing is not None:
                    log.info("%s: redis answers again", self.name)
                self._failing = None

    def on_failure(self) -> None:
        """React to a tick Redis could not serve (subclasses)."""

    def stop(self, grace: float = 1.0) -> None:
        """Stop ticking; wait for a tick in progress."""
        self._halt.set()
        if self.is_alive():
            self.join(timeout=self.interval + grace)
