"""fila's configuration, read from the environment in one place."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum, StrEnum


class Delivery(StrEnum):
    """How a worker takes messages off the queue."""

    BRPOP = "brpop"
    RELIABLE = "reliable"


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


def _parse_floats(raw: str) -> tuple[float, ...]:
    return tuple(float(part) for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Every knob fila has; each field is read from the env var named in its metadata."""

    redis_url: str = field(default="redis://localhost:6379/0", metadata={"env": "REDIS_URL"})
    redis_connect_timeout: float = field(default=0.2, metadata={"env": "REDIS_CONNECT_TIMEOUT"})
    redis_socket_timeout: float = field(default=0.5, metadata={"env": "REDIS_SOCKET_TIMEOUT"})
    redis_retries: int = field(default=1, metadata={"env": "REDIS_RETRIES"})
    redis_sentinel_password: str = field(default="", repr=False, metadata={"env": "REDIS_SENTINEL_PASSWORD"})
    redis_wait_replicas: int = field(default=0, metadata={"env": "REDIS_WAIT_REPLICAS"})
    redis_wait_timeout_ms: int = field(default=500, metadata={"env": "REDIS_WAIT_TIMEOUT_MS"})

    queue_name: str = field(default="fila", metadata={"env": "QUEUE_NAME"})
    max_attempts: int = field(default=5, metadata={"env": "MAX_ATTEMPTS"})
    message_max_bytes: int = field(default=65536, metadata={"env": "MESSAGE_MAX_BYTES"})
    batch_max: int = field(default=10000, metadata={"env": "BATCH_MAX"})
    request_max_bytes: int = field(default=16 * 1024 * 1024, metadata={"env": "REQUEST_MAX_BYTES"})
    result_ttl: int = field(default=86400, metadata={"env": "RESULT_TTL"})

    worker_name: str = field(default="", metadata={"env": "WORKER_NAME"})
    worker_delivery: Delivery = field(default=Delivery.RELIABLE, metadata={"env": "WORKER_DELIVERY"})
    worker_block_timeout: float = field(default=1.0, metadata={"env": "WORKER_BLOCK_TIMEOUT"})
    worker_batch_max: int = field(default=500, metadata={"env": "WORKER_BATCH_MAX"})
    worker_batch_target_ms: float = field(default=10.0, metadata={"env": "WORKER_BATCH_TARGET_MS"})
    heartbeat_ttl: float = field(default=10.0, metadata={"env": "HEARTBEAT_TTL"})
    handler: str = field(default="shared.handlers:analyse", metadata={"env": "HANDLER"})
    work_ms_max: int = field(default=10000, metadata={"env": "WORK_MS_MAX"})

    key_max_len: int = field(default=200, metadata={"env": "KEY_MAX_LEN"})
    value_max_len: int = field(default=4096, metadata={"env": "VALUE_MAX_LEN"})
    list_show_max: int = field(default=1000, metadata={"env": "LIST_SHOW_MAX"})

    fib_naive_max: int = field(default=32, metadata={"env": "FIB_NAIVE_MAX"})
    fib_job_naive_max: int = field(default=35, metadata={"env": "FIB_JOB_NAIVE_MAX"})
    fib_fast_max: int = field(default=1_000_000, metadata={"env": "FIB_FAST_MAX"})
    fib_cache_ttl: int = field(default=60, metadata={"env": "FIB_CACHE_TTL"})

    job_queue_name: str = field(default="fib", metadata={"env": "RQ_QUEUE"})
    job_timeout: int = field(default=60, metadata={"env": "JOB_TIMEOUT"})
    job_result_ttl: int = field(default=3600, metadata={"env": "JOB_RESULT_TTL"})
    job_failure_ttl: int = field(default=3 * 86400, metadata={"env": "JOB_FAILURE_TTL"})
    job_retries: int = field(default=2, metadata={"env": "JOB_RETRIES"})
    job_retry_intervals: tuple[float, ...] = field(default=(1.0, 5.0), metadata={"env": "JOB_RETRY_INTERVALS"})

    web_port: int = field(default=5000, metadata={"env": "WEB_PORT"})
    web_alt_port: int = field(default=8500, metadata={"env": "WEB_ALT_PORT"})
    web_workers: int = field(default=2, metadata={"env": "WEB_WORKERS"})
    web_threads: int = field(default=2, metadata={"env": "WEB_THREADS"})
    workers: int = field(default=2, metadata={"env": "WORKERS"})
    redis_port: int = field(default=6379, metadata={"env": "REDIS_PORT"})
    dashboard_port: int = field(default=9181, metadata={"env": "DASHBOARD_PORT"})
    commander_port: int = field(default=8081, metadata={"env": "COMMANDER_PORT"})
    dashboard_username: str = field(default="", metadata={"env": "RQ_DASHBOARD_USERNAME"})
    dashboard_password: str = field(default="", repr=False, metadata={"env": "RQ_DASHBOARD_PASSWORD"})
    dashboard_url: str = field(default="http://localhost:9181", metadata={"env": "DASHBOARD_URL"})
    commander_url: str = field(default="http://localhost:8081", metadata={"env": "COMMANDER_URL"})
    log_level: str = field(default="INFO", metadata={"env": "LOG_LEVEL"})
    log_messages: bool = field(default=True, metadata={"env": "LOG_MESSAGES"})

    admin_username: str = field(default="admin", metadata={"env": "ADMIN_USERNAME"})
    admin_password: str = field(default="", repr=False, metadata={"env": "ADMIN_PASSWORD"})
    secret_key: str = field(default="", repr=False, metadata={"env": "SECRET_KEY"})
    session_ttl: int = field(default=1800, metadata={"env": "SESSION_TTL"})
    api_tokens_required: bool = field(default=False, metadata={"env": "API_TOKENS_REQUIRED"})
    token_ttl_max: int = field(default=30 * 86400, metadata={"env": "TOKEN_TTL_MAX"})
    rate_limit_api: str = field(default="", metadata={"env": "RATE_LIMIT_API"})
    rate_limit_writes: str = field(default="200/second", metadata={"env": "RATE_LIMIT_WRITES"})
    rate_limit_login: str = field(default="5/minute", metadata={"env": "RATE_LIMIT_LOGIN"})
    trusted_proxies: int = field(default=0, metadata={"env": "TRUSTED_PROXIES"})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment; a bad value raises ValueError naming its variable."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for spec in fields(cls):
            name = spec.metadata["env"]
            if name not in env:
                continue
            raw = env[name]
            try:
                values[spec.name] = _convert(str(spec.type), raw)
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r}: {exc}") from None
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ValueError when settings contradict each other or are out of range."""
        positive = ("max_attempts", "message_max_bytes", "batch_max", "result_ttl", "worker_batch_max",
                    "key_max_len", "value_max_len", "fib_cache_ttl", "job_timeout", "session_ttl", "token_ttl_max")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.worker_block_timeout <= 0 or self.heartbeat_ttl <= 0:
            raise ValueError("worker_block_timeout and heartbeat_ttl must be positive")
        if self.redis_connect_timeout <= 0 or self.redis_socket_timeout <= 0:
            raise ValueError("Redis timeouts must be positive")
        if not self.queue_name or not self.job_queue_name:
            raise ValueError("queue names must not be empty")
        if self.trusted_proxies < 0 or self.redis_wait_replicas < 0 or self.redis_wait_timeout_ms <= 0:
            raise ValueError("trusted_proxies, redis_wait_replicas must be >= 0; redis_wait_timeout_ms > 0")

    def env(self) -> dict[str, str]:
        """Render these settings as environment variables (for child processes)."""
        out: dict[str, str] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, tuple):
                value = ",".join(str(v) for v in value)
            elif isinstance(value, Enum):
                value = value.value
            elif isinstance(value, bool):
                value = "1" if value else "0"
            out[spec.metadata["env"]] = str(value)
        return out

    @staticmethod
    def provided(environ: Mapping[str, str] | None = None) -> set[str]:
        """Return the names of fila's variables that the environment sets."""
        env = os.environ if environ is None else environ
        return {spec.metadata["env"] for spec in fields(Settings) if spec.metadata["env"] in env}

    @staticmethod
    def variables() -> list[tuple[str, str, object]]:
        """List (env var, field name, default) for documentation and tests."""
        return [(spec.metadata["env"], spec.name, spec.default) for spec in fields(Settings)]


def _convert(kind: str, raw: str) -> object:
    converters: dict[str, Callable[[str], object]] = {
        "str": str,
        "int": lambda s: int(s.replace("_", "")),
        "float": float,
        "bool": _parse_bool,
        "Delivery": Delivery,
        "tuple[float, ...]": _parse_floats,
    }
    return converters[kind](raw.strip() if kind != "str" else raw)
