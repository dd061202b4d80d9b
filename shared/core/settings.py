"""fila's configuration, read from the environment in one place."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum, StrEnum
from typing import Any, cast


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


def _parse_names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


#: A queue's name: what `QUEUES` may hold (a Redis list's name, and a part of a metric label and a URL).
QUEUE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
#: Most named queues: each is a few keys and a line in every figure.
QUEUES_MAX = 32
#: What a queue may set for itself, `QUEUE_<NAME>_<OPTION>`: the option and the setting it overrides.
QUEUE_OPTIONS = {"HANDLER": "handler", "MAX_ATTEMPTS": "max_attempts", "RETRY_BASE_MS": "retry_base_ms",
                 "TIMEOUT_MS": "handler_timeout_ms", "RATE_LIMIT": "queue_rate_limit"}


def queue_variable(queue: str, option: str) -> str:
    """Name the variable of one queue's option: `QUEUE_ALTA_HANDLER` (the name upper-cased, `-` and `.` as `_`)."""
    return f"QUEUE_{re.sub(r'[^A-Za-z0-9]', '_', queue).upper()}_{option}"


def setting(default: Any, env: str, help: str, *, secret: bool = False, group: str = "fila") -> Any:
    """Declare one setting: its default, its environment variable, and what it does (the docs say it as written)."""
    return field(default=default, repr=not secret, metadata={"env": env, "help": help, "secret": secret,
                                                             "group": group})


@dataclass(frozen=True)
class Settings:
    """Every knob fila has: each field names its environment variable, its default and its help, once.

    docs/configuration.md, .env.example and deploy/kubernetes/config.yaml are generated from
    these declarations (`make generated`); a test fails when one of them is stale.
    """

    redis_url: str = setting(
        "redis://localhost:6379/0", "REDIS_URL",
        "where Redis is: `redis://[user:password@]host:port/db`, or through Sentinel "
        "`redis+sentinel://[user:password@]host:26379,host2:26379/service[/db]`; unset, `make run` starts its own",
        group="redis")
    redis_connect_timeout: float = setting(0.2, "REDIS_CONNECT_TIMEOUT", "seconds to connect", group="redis")
    redis_socket_timeout: float = setting(
        0.5, "REDIS_SOCKET_TIMEOUT", "seconds per command (a worker's blocking pop and `WAIT` add their own on top)",
        group="redis")
    redis_retries: int = setting(1, "REDIS_RETRIES", "retries of a command after a connection error", group="redis")
    redis_sentinel_password: str = setting(
        "", "REDIS_SENTINEL_PASSWORD", "the Sentinels' own password (with a `redis+sentinel://` URL)", secret=True,
        group="redis")
    redis_wait_replicas: int = setting(
        0, "REDIS_WAIT_REPLICAS", "after each enqueue (and each settle), `WAIT` for this many replicas; 503 when they "
        "do not acknowledge in time (docs/deploy.md)", group="redis")
    redis_wait_timeout_ms: int = setting(500, "REDIS_WAIT_TIMEOUT_MS", "how long that `WAIT` waits", group="redis")

    queue_name: str = setting("fila", "QUEUE_NAME", "the message queue list (with `QUEUES`, its first name)",
                              group="queue")
    queues: tuple[str, ...] = setting(
        (), "QUEUES", "the named message queues, comma-separated (`fila,alta,baixa`): the first is the default; each "
        "may set `QUEUE_<NAME>_HANDLER`, `_MAX_ATTEMPTS`, `_RETRY_BASE_MS`, `_TIMEOUT_MS`, `_RATE_LIMIT` "
        "(docs/queues.md); empty: `QUEUE_NAME` alone", group="queue")
    queue_options: tuple[tuple[str, str, str], ...] = setting(
        (), "QUEUE_<NAME>_<OPTION>", "one queue's own handler, max attempts, retry base, timeout or rate limit "
        "(`QUEUE_ALTA_MAX_ATTEMPTS=3`); unset, the queue uses the setting of all", group="queue")
    max_attempts: int = setting(5, "MAX_ATTEMPTS", "runs before a message goes to the dead letters", group="queue")
    message_max_bytes: int = setting(65536, "MESSAGE_MAX_BYTES", "largest message body (413 beyond)", group="queue")
    batch_max: int = setting(10000, "BATCH_MAX", "most messages in one POST (413 beyond)", group="queue")
    request_max_bytes: int = setting(16 * 1024 * 1024, "REQUEST_MAX_BYTES",
                                     "largest request body, however it is sent (413 beyond, nothing stored)",
                                     group="queue")
    result_ttl: int = setting(86400, "RESULT_TTL", "seconds a result record is kept", group="queue")
    timeline_ttl: int = setting(
        3600, "TIMELINE_TTL", "seconds a message's timeline (its steps, GET /api/messages/<id>/timeline) is kept after "
        "the last step written in its second; about 190 bytes a message done on its first run, 100 more a later "
        "step; 0: no timelines (nothing written)", group="queue")
    queue_rate_limit: float = setting(
        0.0, "QUEUE_RATE_LIMIT", "messages a second the queue's workers run at most, all together (a token bucket "
        "in Redis, a round trip per batch); 0: no limit", group="queue")
    drain_target_seconds: int = setting(
        60, "DRAIN_TARGET_SECONDS", "the backlog should drain within this: `fila_workers_wanted` (for KEDA) is the "
        "number of workers that would drain it so, at the recent rate per worker", group="queue")
    idempotency_ttl: int = setting(86400, "IDEMPOTENCY_TTL", "seconds an `Idempotency-Key` is remembered (a request "
                                   "sent again with it within that time gets the first answer)", group="queue")
    delay_max_ms: int = setting(30 * 86400 * 1000, "DELAY_MAX_MS", "longest `delay_ms` (or `not_before` ahead) a "
                                "message may ask for (400 beyond)", group="queue")
    retry_base_ms: int = setting(1000, "RETRY_BASE_MS", "a failed message waits up to this long before its second "
                                 "run, twice that before its third...: `min(RETRY_MAX_MS, RETRY_BASE_MS * 2^(n-1))` "
                                 "times a random factor in [0, 1) (full jitter); 0 retries at once", group="queue")
    retry_max_ms: int = setting(300_000, "RETRY_MAX_MS", "the longest wait before a retry", group="queue")

    worker_name: str = setting("", "WORKER_NAME", "a worker's name (empty: host-pid)", group="worker")
    worker_queues: str = setting(
        "", "WORKER_QUEUES", "the queues a worker serves: `alta,fila` in strict priority order, or `alta:5,fila:1` by "
        "weight (docs/queues.md); empty: the default queue", group="worker")
    worker_delivery: Delivery = setting(Delivery.RELIABLE, "WORKER_DELIVERY",  # noqa: RUF009 (a field)
                                        "`reliable` (BLMOVE) or `brpop` (the handout's loop)", group="worker")
    worker_block_timeout: float = setting(1.0, "WORKER_BLOCK_TIMEOUT", "seconds a worker blocks waiting for a message",
                                          group="worker")
    worker_batch_max: int = setting(500, "WORKER_BATCH_MAX", "most messages a worker takes in one round trip",
                                    group="worker")
    worker_batch_target_ms: float = setting(
        10.0, "WORKER_BATCH_TARGET_MS", "a batch is sized to take about this long; results are stored at least this "
        "often", group="worker")
    heartbeat_ttl: float = setting(10.0, "HEARTBEAT_TTL", "seconds after which a silent worker counts as lost",
                                   group="worker")
    handler: str = setting("shared.messages.handlers:analyse", "HANDLER", "the message handler (`module:function`)",
                           group="worker")
    handler_timeout_ms: int = setting(
        300_000, "HANDLER_TIMEOUT_MS", "a handler running longer loses its message (retried after its backoff, or "
        "dead: `timeout`) and its worker restarts itself if it stays stuck; 0: no limit", group="worker")
    work_ms_max: int = setting(10000, "WORK_MS_MAX", "cap on a body's `work_ms`", group="worker")

    key_max_len: int = setting(200, "KEY_MAX_LEN", "longest key or list name", group="handout")
    value_max_len: int = setting(4096, "VALUE_MAX_LEN", "longest value", group="handout")
    list_show_max: int = setting(1000, "LIST_SHOW_MAX", "values `/listar` shows", group="handout")
    fib_naive_max: int = setting(32, "FIB_NAIVE_MAX", "largest n for the naive recursion in a request",
                                 group="handout")
    fib_job_naive_max: int = setting(35, "FIB_JOB_NAIVE_MAX", "largest n for a naive job", group="jobs")
    fib_fast_max: int = setting(1_000_000, "FIB_FAST_MAX", "largest n for a fast job", group="jobs")
    fib_cache_ttl: int = setting(60, "FIB_CACHE_TTL", "seconds `fib:<n>` is cached", group="handout")

    job_queue_name: str = setting("fib", "RQ_QUEUE", "the RQ queue", group="jobs")
    job_timeout: int = setting(60, "JOB_TIMEOUT", "seconds an RQ job may run", group="jobs")
    job_result_ttl: int = setting(3600, "JOB_RESULT_TTL", "seconds a finished job is kept", group="jobs")
    job_failure_ttl: int = setting(3 * 86400, "JOB_FAILURE_TTL", "seconds a failed job is kept", group="jobs")
    job_retries: int = setting(2, "JOB_RETRIES", "retries of a failed job", group="jobs")
    job_retry_intervals: tuple[float, ...] = setting((1.0, 5.0), "JOB_RETRY_INTERVALS",
                                                     "seconds before each retry, comma-separated", group="jobs")

    web_port: int = setting(5000, "WEB_PORT", "`make run`'s web port", group="run")
    web_alt_port: int = setting(8500, "WEB_ALT_PORT", "`make run`'s second web port (the handout uses both)",
                                group="run")
    web_workers: int = setting(2, "WEB_WORKERS", "granian processes (`make run`)", group="run")
    web_threads: int = setting(2, "WEB_THREADS", "threads per granian process (`make run`)", group="run")
    workers: int = setting(2, "WORKERS", "message workers (`make run`; compose: replicas)", group="run")
    redis_appendfsync: str = setting(
        "everysec", "REDIS_APPENDFSYNC", "when the Redis that `make run` and compose start fsyncs its AOF: `everysec` "
        "(a crash of the machine may lose about the last second of writes) or `always` (nothing acknowledged is "
        "lost; see docs/reliability.md for its cost)", group="run")
    redis_port: int = setting(6379, "REDIS_PORT", "port of `make run`'s own redis-server (the next free one when "
                                                  "taken)", group="run")
    var_dir: str = setting("", "FILA_VAR", "where `make run` keeps its Redis' data and `run.json` (the Redis every "
                                           "tool then uses); empty: the project's `var/`", group="run")
    dashboard_port: int = setting(9181, "DASHBOARD_PORT", "rq-dashboard's port", group="run")
    commander_port: int = setting(8081, "COMMANDER_PORT", "Redis Commander's port", group="run")
    dashboard_username: str = setting("", "RQ_DASHBOARD_USERNAME",
                                      "rq-dashboard's basic auth (compose sets it from `DASHBOARD_USERNAME`)",
                                      group="run")
    dashboard_password: str = setting("", "RQ_DASHBOARD_PASSWORD",
                                      "rq-dashboard's basic auth (compose sets it from `DASHBOARD_PASSWORD`)",
                                      secret=True, group="run")
    dashboard_url: str = setting("http://localhost:9181", "DASHBOARD_URL", "the console's link to rq-dashboard",
                                 group="run")
    commander_url: str = setting("http://localhost:8081", "COMMANDER_URL", "the console's link to Redis Commander",
                                 group="run")
    dev: bool = setting(False, "FILA_DEV", "development (`make dev`): a lab route that fails shows its file, line and "
                        "error on the page as well as in the log; never set it where others can reach the pages",
                        group="lab")
    lab_dir: str = setting("", "LAB_DIR", "the folder of the student's code (`app.py`, `worker.py`...); empty: the "
                                          "project's `lab/`", group="lab")
    language: str = setting("", "FILA_LANGUAGE", "`pt-BR` or `en`: the console's and the lab's language (a browser's "
                            "Accept-Language chooses for its own pages); empty: English when `LANG` starts with `en`, "
                            "Portuguese otherwise", group="lab")
    allow_experiments: bool = setting(False, "ALLOW_EXPERIMENTS", "`1` lets `fila prove` run its experiments "
                                      "here: it sends numbered messages to its own queue (`prove`) and kills its own "
                                      "workers; off by default", group="lab")
    otel_endpoint: str = setting(
        "", "OTEL_EXPORTER_OTLP_ENDPOINT", "an OpenTelemetry collector's OTLP/HTTP address (`http://collector:4318`): "
        "traces go to its `/v1/traces` (docs/tracing.md); empty, with no traces endpoint: no traces (nothing loaded, "
        "nothing carried)", group="traces")
    otel_traces_endpoint: str = setting(
        "", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "the whole URL traces are sent to (wins over the address above)",
        group="traces")
    otel_protocol: str = setting(
        "http/protobuf", "OTEL_EXPORTER_OTLP_PROTOCOL", "how traces are sent: `http/protobuf` (the exporter fila "
        "ships; `grpc` is refused: it would need grpcio in every image)", group="traces")
    otel_headers: str = setting(
        "", "OTEL_EXPORTER_OTLP_HEADERS", "headers sent with each export, `name=value,name2=value2` (a vendor's key)",
        secret=True, group="traces")
    otel_sample_ratio: float = setting(
        1.0, "OTEL_TRACES_SAMPLER_ARG", "the share of new traces kept, 0 to 1 (by trace id; a message's attempts "
        "follow the request that sent it; a Redis call outside any span starts none): each kept message costs the "
        "worker about 0.1 ms (docs/tracing.md)", group="traces")
    otel_service_name: str = setting(
        "", "OTEL_SERVICE_NAME", "the service its spans name; empty: `fila-web`, `fila-worker`, `fila-rq-worker`, "
        "each process its own", group="traces")
    log_level: str = setting("INFO", "LOG_LEVEL", "log level", group="logs")
    log_messages: bool = setting(True, "LOG_MESSAGES", "one log line per message (`0` to turn off)", group="logs")

    admin_username: str = setting("admin", "ADMIN_USERNAME", "the operator's sign-in name", group="access")
    admin_password: str = setting(
        "", "ADMIN_PASSWORD", "the operator's password (or its werkzeug `scrypt:` hash); empty: admin routes open "
        "(`make run` on 127.0.0.1 only; compose requires one)", secret=True, group="access")
    secret_key: str = setting(
        "", "SECRET_KEY", "signs session cookies and CSRF tokens (empty: derived from `ADMIN_PASSWORD` and "
        "`REDIS_URL`, the same in every process)", secret=True, group="access")
    session_ttl: int = setting(1800, "SESSION_TTL", "seconds of inactivity before a session ends", group="access")
    session_max_age: int = setting(43200, "SESSION_MAX_AGE", "seconds after sign-in when a session ends, used or not",
                                   group="access")
    api_tokens_required: bool = setting(
        False, "API_TOKENS_REQUIRED", "`1`: the producer API, and the handout's routes on fila's own keys (its queue "
        "list, `fila:*`, `rq:*`), need a token", group="access")
    token_ttl_max: int = setting(30 * 86400, "TOKEN_TTL_MAX", "longest life of an API token (seconds)",
                                 group="access")
    rate_limit_api: str = setting("", "RATE_LIMIT_API", "one budget per client address for the producer API "
                                                        "(empty: none)", group="access")
    rate_limit_writes: str = setting("200/second", "RATE_LIMIT_WRITES",
                                     "one budget per client address for every write of the open routes",
                                     group="access")
    rate_limit_login: str = setting("5/minute", "RATE_LIMIT_LOGIN",
                                    "sign-in attempts per client address (page loads do not count)", group="access")
    rate_limit_cpu: str = setting("30/minute", "RATE_LIMIT_CPU",
                                  "one budget per client address for the routes that compute in the request "
                                  "(`/fib`, `/fib-cache`)", group="access")
    trusted_proxies: int = setting(0, "TRUSTED_PROXIES", "reverse proxies in front (their `X-Forwarded-For` is "
                                                         "believed)", group="access")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment; a bad value raises ValueError naming its variable."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for spec in fields(cls):
            name = spec.metadata["env"]
            if spec.name == "queue_options":
                values[spec.name] = _queue_options(env, values)
                continue
            if name not in env:
                continue
            raw = env[name]
            try:
                values[spec.name] = _convert(str(spec.type), raw)
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r}: {exc}") from None
        if values.get("queues") and "QUEUE_NAME" not in env:
            values["queue_name"] = cast(tuple[str, ...], values["queues"])[0]
        if not values.get("language"):
            values["language"] = "en" if env.get("LANG", "").lower().startswith("en") else "pt-BR"
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise ValueError when settings contradict each other or are out of range."""
        if self.queue_rate_limit < 0:
            raise ValueError("QUEUE_RATE_LIMIT must be >= 0 (0: no limit)")
        if self.drain_target_seconds <= 0:
            raise ValueError("DRAIN_TARGET_SECONDS must be positive")
        if self.idempotency_ttl <= 0:
            raise ValueError("IDEMPOTENCY_TTL must be positive")
        if self.timeline_ttl < 0:
            raise ValueError("TIMELINE_TTL must be >= 0 (0: no timelines)")
        if self.handler_timeout_ms < 0:
            raise ValueError("HANDLER_TIMEOUT_MS must be >= 0 (0: no limit)")
        if self.delay_max_ms < 0 or self.retry_base_ms < 0 or self.retry_max_ms < self.retry_base_ms:
            raise ValueError("delay_max_ms and retry_base_ms must be >= 0, retry_max_ms >= retry_base_ms")
        positive = ("max_attempts", "message_max_bytes", "batch_max", "result_ttl", "worker_batch_max",
                    "key_max_len", "value_max_len", "fib_cache_ttl", "job_timeout", "session_ttl", "session_max_age",
                    "token_ttl_max")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.worker_block_timeout <= 0 or self.heartbeat_ttl <= 0:
            raise ValueError("worker_block_timeout and heartbeat_ttl must be positive")
        if self.redis_connect_timeout <= 0 or self.redis_socket_timeout <= 0:
            raise ValueError("Redis timeouts must be positive")
        if not self.queue_name or not self.job_queue_name:
            raise ValueError("queue names must not be empty")
        if self.queues:
            self._validate_queues()
        if self.redis_appendfsync not in {"everysec", "always"}:
            raise ValueError("redis_appendfsync must be everysec or always")
        if self.language not in {"pt-BR", "en", ""}:
            raise ValueError("language must be pt-BR or en")
        if not 0 <= self.otel_sample_ratio <= 1:
            raise ValueError(f"OTEL_TRACES_SAMPLER_ARG={self.otel_sample_ratio}: a share between 0 and 1")
        if self.otel_protocol != "http/protobuf":
            raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={self.otel_protocol!r}: fila exports traces over "
                             "http/protobuf only (point it at the collector's port 4318)")
        for name, url in (("OTEL_EXPORTER_OTLP_ENDPOINT", self.otel_endpoint),
                          ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", self.otel_traces_endpoint)):
            if url and not url.startswith(("http://", "https://")):
                raise ValueError(f"{name}={url!r}: an http:// or https:// URL")
        if self.trusted_proxies < 0 or self.redis_wait_replicas < 0 or self.redis_wait_timeout_ms <= 0:
            raise ValueError("trusted_proxies, redis_wait_replicas must be >= 0; redis_wait_timeout_ms > 0")

    @property
    def queue_names(self) -> tuple[str, ...]:
        """Return every message queue's name, the default first."""
        return self.queues or (self.queue_name,)

    @property
    def traces_endpoint(self) -> str:
        """Return the URL traces are exported to ("": tracing is off), after OpenTelemetry's own rules."""
        if self.otel_traces_endpoint:
            return self.otel_traces_endpoint
        return f"{self.otel_endpoint.rstrip('/')}/v1/traces" if self.otel_endpoint else ""

    @property
    def default_queue(self) -> str:
        """Return the default queue's name (the handout's `fila` unless configured otherwise)."""
        return self.queue_names[0]

    def for_queue(self, name: str) -> Settings:
        """Return the settings one queue runs with: its name, and its own options over the shared ones."""
        if name not in self.queue_names:
            raise KeyError(name)
        own = {QUEUE_OPTIONS[option]: _convert(_KINDS[QUEUE_OPTIONS[option]], raw)
               for queue, option, raw in self.queue_options if queue == name}
        return replace(self, queue_name=name, **own)  # type: ignore[arg-type]

    def _validate_queues(self) -> None:
        """Raise ValueError for a bad `QUEUES`: a name fila cannot use, a repeated one, too many."""
        if len(self.queues) > QUEUES_MAX:
            raise ValueError(f"QUEUES holds at most {QUEUES_MAX} queues")
        if len(set(self.queues)) != len(self.queues):
            raise ValueError("QUEUES names a queue twice")
        for name in self.queues:
            if not QUEUE_NAME_PATTERN.fullmatch(name) or name.startswith(("fila:", "rq:", "fib:")):
                raise ValueError(f"QUEUES: {name!r} is not a queue name (letters, digits, `_`, `-`, `.`; at most 64)")
        if self.queue_name != self.queues[0]:
            raise ValueError(f"QUEUE_NAME={self.queue_name!r} but QUEUES starts with {self.queues[0]!r}: set one")
        for name in self.queues:
            self.for_queue(name).validate_queue()

    def validate_queue(self) -> None:
        """Raise ValueError when a queue's own options are out of range."""
        if self.max_attempts <= 0 or self.retry_base_ms < 0 or self.retry_max_ms < self.retry_base_ms:
            raise ValueError(f"queue {self.queue_name}: max attempts must be positive, retry base in "
                             "[0, RETRY_MAX_MS]")
        if self.handler_timeout_ms < 0 or self.queue_rate_limit < 0:
            raise ValueError(f"queue {self.queue_name}: timeout and rate limit must be >= 0")

    def env(self) -> dict[str, str]:
        """Render these settings as environment variables (for child processes)."""
        rendered = {spec.metadata["env"]: self.env_value(getattr(self, spec.name)) for spec in fields(self)
                    if spec.name != "queue_options"}
        rendered.update({queue_variable(queue, option): raw for queue, option, raw in self.queue_options})
        return rendered

    @staticmethod
    def env_value(value: object) -> str:
        """Render one setting's value as its environment variable holds it."""
        if isinstance(value, tuple):
            return ",".join(str(v) for v in value)
        if isinstance(value, Enum):
            return str(value.value)
        if isinstance(value, bool):
            return "1" if value else "0"
        return str(value)

    @staticmethod
    def provided(environ: Mapping[str, str] | None = None) -> set[str]:
        """Return the names of fila's variables that the environment sets (a queue's own options included)."""
        env = os.environ if environ is None else environ
        names = {spec.metadata["env"] for spec in fields(Settings) if spec.metadata["env"] in env}
        return names | {name for name in env if _QUEUE_VARIABLE.fullmatch(name)}

    @staticmethod
    def variables() -> list[tuple[str, str, object]]:
        """List (env var, field name, default) for documentation and tests."""
        return [(spec.metadata["env"], spec.name, spec.default) for spec in fields(Settings)]


#: A queue's own option: `QUEUE_<NAME>_<OPTION>`.
_QUEUE_VARIABLE = re.compile(rf"QUEUE_([A-Z0-9_]+)_({'|'.join(QUEUE_OPTIONS)})")
_KINDS = {"handler": "str", "max_attempts": "int", "retry_base_ms": "int", "handler_timeout_ms": "int",
          "queue_rate_limit": "float"}


def _queue_options(env: Mapping[str, str], values: Mapping[str, object]) -> tuple[tuple[str, str, str], ...]:
    """Read each named queue's own options (`QUEUE_ALTA_MAX_ATTEMPTS=3`), checking their values."""
    names = values.get("queues") or (values.get("queue_name", "fila"),)
    found = []
    for queue in cast(tuple[str, ...], names):
        for option, field_name in QUEUE_OPTIONS.items():
            variable = queue_variable(queue, option)
            if variable in env:
                raw = env[variable].strip()
                try:
                    _convert(_KINDS[field_name], raw)
                except ValueError as exc:
                    raise ValueError(f"{variable}={raw!r}: {exc}") from None
                found.append((queue, option, raw))
    return tuple(found)


def _convert(kind: str, raw: str) -> object:
    converters: dict[str, Callable[[str], object]] = {
        "str": str,
        "int": lambda s: int(s.replace("_", "")),
        "float": float,
        "bool": _parse_bool,
        "Delivery": Delivery,
        "tuple[float, ...]": _parse_floats,
        "tuple[str, ...]": _parse_names,
    }
    return converters[kind](raw.strip() if kind != "str" else raw)
