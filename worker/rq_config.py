"""Settings module for RQ's own CLI, built from fila's settings.

    rq worker -c worker.rq_config --with-scheduler --serializer json
"""

from shared.settings import Settings
from worker.rq_logging import dict_config

_settings = Settings.from_env()

REDIS_URL = _settings.redis_url
QUEUES = [_settings.job_queue_name]
DICT_CONFIG = dict_config(_settings.log_level)
