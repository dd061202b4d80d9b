"""`fila explain ID`: what happened to one message, step by step, and the Redis commands each step used.

    fila explain 01JD3V6Q1Y8X6N5K2Z7W4R3T9M            its steps, each with its script and commands
    fila explain 01JD3V6Q1Y8X6N5K2Z7W4R3T9M --brief    the steps only
    fila explain 01JD3V6Q1Y8X6N5K2Z7W4R3T9M --json     as GET /api/messages/<id>/timeline answers

Straight on the Redis of REDIS_URL (or `make run`'s). Steps are kept TIMELINE_TTL seconds after the last one.
"""

from __future__ import annotations

import argparse
import json
import sys

from shared.core import run_file
from shared.core.connection import connect
from shared.core.ids import is_valid
from shared.messages.monitor import QueueMonitor
from shared.messages.story import lines, locate, story
from shared.messages.timeline import Timeline


def main(argv: list[str] | None = None) -> int:
    """Print one message's timeline; exit 1 when nothing is known of it."""
    parser = argparse.ArgumentParser(prog="fila explain", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("id", help="the message's id, as POST /api/messages answered it")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--brief", action="store_true", help="the steps without their Redis commands")
    shown.add_argument("--json", action="store_true", help="the API's JSON")
    args = parser.parse_args(argv)
    if not is_valid(args.id):
        parser.error("not a message id (a ULID: 26 characters of Crockford base32)")
    settings = run_file.settings_for_tool()
    connection = connect(settings, name="fila-explain")
    steps = Timeline(connection, settings).read(args.id)
    now = locate((QueueMonitor(connection, settings.for_queue(name)) for name in settings.queue_names), args.id)
    if not steps and now is None:
        print(f"fila explain: nothing is known of {args.id} (unknown, or its steps and record expired; "
              "TIMELINE_TTL=0 writes no steps)", file=sys.stderr)
        return 1
    told = story(args.id, steps, now, settings.default_queue, settings.timeline_ttl)
    print(json.dumps(told, ensure_ascii=False, indent=2) if args.json else "\n".join(lines(told, not args.brief)))
    return 0
