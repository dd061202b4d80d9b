"""Settings: read from the environment in one place, bad values named by their variable."""

from __future__ import annotations

import pytest

from shared.core.settings import Delivery, Settings


def test_settings_defaults_and_env():
    assert Settings.from_env({}).redis_url == "redis://localhost:6379/0"
    s = Settings.from_env({"REDIS_URL": "redis://r:1/2", "MAX_ATTEMPTS": "3", "WORKER_DELIVERY": "brpop",
                           "JOB_RETRY_INTERVALS": "1,2,3", "LOG_MESSAGES": "no"})
    assert (s.redis_url, s.max_attempts, s.worker_delivery, s.job_retry_intervals, s.log_messages) == (
        "redis://r:1/2", 3, Delivery.BRPOP, (1.0, 2.0, 3.0), False)
    assert Settings.from_env(s.env()) == s


@pytest.mark.parametrize(("name", "value"), [("MAX_ATTEMPTS", "x"), ("MAX_ATTEMPTS", "0"),
                                             ("WORKER_DELIVERY", "fast"), ("LOG_MESSAGES", "maybe")])
def test_settings_bad_values_name_the_variable(name, value):
    with pytest.raises(ValueError, match=name if value != "0" else "max_attempts"):
        Settings.from_env({name: value})
