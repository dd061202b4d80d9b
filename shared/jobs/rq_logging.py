"""Logging for RQ's CLI worker: one line per job in `docker compose logs -f`."""

from __future__ import annotations

import logging
from typing import Any

#: RQ's per-job INFO chatter; the "Successfully completed ..." line (and every warning or error) stays.
_CHATTER = (
    "Worker %s: %s: %s (%s)",  # job picked up, and "Job OK"
    "Worker %s: %s: %s",
    "Worker %s: job %s result is kept for %s seconds",
    "Worker %s: job %s result discarded immediately",
)


class OneLinePerJob(logging.Filter):
    """Drop RQ's per-job INFO lines except the one that says a job completed."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record unless it is per-job chatter."""
        return record.levelno > logging.INFO or record.msg not in _CHATTER


def dict_config(level: str) -> dict[str, Any]:
    """Return the logging.config dict that RQ's CLI applies (DICT_CONFIG)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"one_line_per_job": {"()": "shared.jobs.rq_logging.OneLinePerJob"}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s rq: %(message)s"}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                                "formatter": "plain", "filters": ["one_line_per_job"]}},
        "loggers": {"rq": {"handlers": ["stdout"], "level": level.upper(), "propagate": False}},
    }
