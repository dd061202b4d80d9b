"""Settings module for RQ's own CLI, built from fila's settings.

    rq worker -c shared.jobs.rq_config --with-scheduler --serializer json

A `redis+sentinel://` REDIS_URL becomes RQ's SENTINEL setting (RQ asks the Sentinels for the primary).
"""

from typing import Any

from shared.core import tracing
from shared.core.connection import SENTINEL_SCHEME, parse_sentinel_url
from shared.core.settings import Settings
from shared.jobs.rq_logging import dict_config

_settings = Settings.from_env()

QUEUES = [_settings.job_queue_name]
DICT_CONFIG = dict_config(_settings.log_level)

if _settings.redis_url.startswith(f"{SENTINEL_SCHEME}://"):
    _address = parse_sentinel_url(_settings.redis_url)
    SENTINEL: dict[str, Any] = {
        "INSTANCES": _address.sentinels, "MASTER_NAME": _address.service, "DB": _address.db,
        "USERNAME": _address.username, "PASSWORD": _address.password,
        "SOCKET_TIMEOUT": _settings.redis_socket_timeout + 5,
        "SENTINEL_KWARGS": {"password": _settings.redis_sentinel_password or None,
                            "socket_timeout": _settings.redis_socket_timeout},
    }
else:
    REDIS_URL = _settings.redis_url

# With an OTLP endpoint set, the RQ worker traces its jobs (shared/jobs/tasks.py): its work horses inherit this.
tracing.start(_settings, tracing.Service.RQ_WORKER)
