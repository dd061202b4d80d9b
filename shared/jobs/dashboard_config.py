"""Settings module for rq-dashboard, built from fila's settings.

    rq-dashboard --json --disable-delete --config shared.jobs.dashboard_config

rq-dashboard reads its Redis URL from RQ_DASHBOARD_REDIS_URL (a `redis+sentinel://` URL works), but
the Sentinels' own password only from its configuration: REDIS_SENTINEL_PASSWORD gives it here.
"""

from shared.core.settings import Settings

_settings = Settings.from_env()

RQ_DASHBOARD_REDIS_SENTINEL_PASSWORD = _settings.redis_sentinel_password or None
