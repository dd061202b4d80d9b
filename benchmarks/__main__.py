"""Run every benchmark on a private redis-server and print the table (`make bench`)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import (
    bulk,
    durability,
    ha,
    http,
    jobs,
    queues,
    scale,
    schedule,
    timeline,
    tracing,
    triage,
    workers,
)
from benchmarks.table import publish, render
from shared.core.settings import Settings
from tests.support.redis_server import RedisServer

SECTIONS = {
    "worker": workers.throughput,
    "latency": workers.latency,
    "steady": workers.steady,
    "http": http.producer,
    "jobs": jobs.rq_jobs,
    "bulk": bulk.bulk,
    "scale": scale.scale,
    "schedule": schedule.schedule,
    "queues": queues.queues,
    "triage": triage.triage,
    "timeline": timeline.timeline,
    "tracing": tracing.tracing,
    "wait": ha.wait_cost,
    "fsync": durability.fsync_cost,
    "failover": ha.failovers,
    "failover-lag": ha.lagging_failovers,
}
#: Left out of a plain `make bench`: they need the Docker engine and take about fifteen minutes each.
OPT_IN = {"failover", "failover-lag"}


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections (all by default) and write var/bench/results.{md,json}."""
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("sections", nargs="*", choices=[*SECTIONS, []],
                        help=f"sections to run (default: all but {', '.join(sorted(OPT_IN))})")
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    args = parser.parse_args(argv)
    chosen = args.sections or [name for name in SECTIONS if name not in OPT_IN]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), fsync="everysec").start()
        try:
            settings = Settings(redis_url=server.url)  # shipped defaults, LOG_LEVEL=INFO included
            client = server.client()
            for name in chosen:
                start = time.monotonic()
                print(f"== {name} ...", flush=True)
                rows += SECTIONS[name](settings, client, args.quick)
                print(f"   {time.monotonic() - start:.1f}s", flush=True)
        finally:
            server.stop()
    table = render(rows)
    out = publish("results.md", table).parent
    (out / "results.json").write_text(json.dumps([r.__dict__ | {"ratio": r.ratio} for r in rows], indent=1))
    print(f"\nwritten to {out}/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
