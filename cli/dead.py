"""`fila dead groups|requeue GROUP|delete GROUP`: the dead letters grouped by error, and a group's requeue or delete.

    fila dead groups                     each group: its letters, the last one's age, its error's signature
    fila dead requeue GROUP [--dry-run]  put a group's letters back on the queue (every step until none is left)
    fila dead delete GROUP --yes         delete a group's letters for good (--dry-run: count them)

`--queue alta` for a named queue (QUEUES). The same as GET /api/dead/groups and
POST /api/dead/groups/<group>/requeue|delete, straight on the Redis of REDIS_URL (or `make run`'s).
"""

from __future__ import annotations

import argparse
import sys
import time

from shared.core import run_file
from shared.core.connection import connect
from shared.messages.dead_letters import STEP_MAX, DeadLetters
from shared.messages.triage import GROUP


def main(argv: list[str] | None = None) -> int:
    """Run one dead-letter command."""
    parser = argparse.ArgumentParser(prog="fila dead", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue", help="a named queue (QUEUES); the default queue without it")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("groups", help="the groups, the biggest first")
    for name, help_ in (("requeue", "put a group's letters back on the queue"), ("delete", "delete them for good")):
        action = commands.add_parser(name, help=help_)
        action.add_argument("group", help="16 hex digits, as `fila dead groups` shows them")
        action.add_argument("--dry-run", action="store_true", help="count what it would touch; touch nothing")
        if name == "delete":
            action.add_argument("--yes", action="store_true", help="yes, delete them")
    args = parser.parse_args(argv)
    settings = run_file.settings_for_tool()
    queue = args.queue or settings.default_queue
    if queue not in settings.queue_names:
        parser.error(f"no queue is named {queue!r}: QUEUES declares {', '.join(settings.queue_names)}")
    letters = DeadLetters(connect(settings), settings.for_queue(queue))
    if args.command == "groups":
        groups, total = letters.group_list()
        now = time.time()
        for group in groups:
            print(f"{group['group']}  {group['count']:>8}  {now - group['last_at']:>10.0f}s  {group['signature']}")
        print(f"{total} group(s) in {queue}")
        return 0
    if not GROUP.fullmatch(args.group):
        parser.error("a group is 16 hex digits, as `fila dead groups` shows them")
    held = letters.group_count(args.group)
    if args.dry_run or held == 0:
        print(f"{held} dead letter(s) in group {args.group}")
        return 0 if held else 1
    if args.command == "delete" and not args.yes:
        parser.error("deleting is for good: add --yes (or --dry-run to count)")
    done = 0
    while letters.group_count(args.group):
        step = letters.group_step(args.group, args.command, STEP_MAX, f"fila dead {args.command} (cli)")
        if step == 0:
            break
        done += step
    print(f"{'requeued' if args.command == 'requeue' else 'deleted'} {done} dead letter(s) of group {args.group}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
