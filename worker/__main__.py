"""`python -m worker` (also `fila worker`): run one message worker until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys

from shared.core import logs, run_file, tracing
from shared.core.connection import connect
from shared.core.settings import Delivery
from worker import served
from worker.consumer import Consumer
from worker.state import default_name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line (each option overrides its environment variable)."""
    parser = argparse.ArgumentParser(prog="fila worker", description=__doc__)
    parser.add_argument("--delivery", choices=[d.value for d in Delivery],
                        help="brpop: the handout's loop, at most once; reliable (default): BLMOVE, at least once")
    parser.add_argument("--name", help="worker name (default: host-pid)")
    parser.add_argument("--handler", help="module:function that processes a body")
    parser.add_argument("--queue", help="queue list name (default: fila)")
    parser.add_argument("--queues", help="serve several named queues (QUEUES): alta,fila in strict priority order, "
                                         "or alta:5,fila:1 by weight (WORKER_QUEUES)")
    parser.add_argument("--batch-max", type=int, help="most messages taken in one round trip")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run a worker; exit 0 after a warm stop."""
    args = parse_args(argv)
    settings = run_file.settings_for_tool()
    overrides = {"worker_delivery": Delivery(args.delivery) if args.delivery else None, "worker_name": args.name,
                 "handler": args.handler, "queue_name": args.queue, "worker_batch_max": args.batch_max,
                 "worker_queues": args.queues}
    settings = dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    logs.configure(settings.log_level)
    connection = connect(settings, block_timeout=settings.worker_block_timeout, name="fila-worker",
                         encoding_errors="surrogateescape")
    try:
        traced = tracing.start(settings, tracing.Service.WORKER, settings.worker_name or default_name())
        consumer = Consumer(connection, settings, queues=served.parse(settings.worker_queues, settings)
                            if settings.worker_queues else None, tracing=traced)
    except ValueError as exc:
        print(f"fila worker: {exc}", file=sys.stderr)
        return 2

    def stop_warm(signum: int, _frame: object) -> None:
        # Later signals are ignored: a second one (honcho sends SIGINT then SIGTERM) must not
        # kill the worker while it stores its last results and leaves the registry.
        for each in (signal.SIGTERM, signal.SIGINT):
            signal.signal(each, signal.SIG_IGN)
        consumer.stop()

    signal.signal(signal.SIGTERM, stop_warm)
    signal.signal(signal.SIGINT, stop_warm)
    code = consumer.run()
    if traced is not None:
        traced.stop()  # the spans still buffered are sent
    return code


if __name__ == "__main__":
    sys.exit(main())
