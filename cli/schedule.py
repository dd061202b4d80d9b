"""`fila schedule add|list|remove`: periodic messages, one per tick however many workers run.

    fila schedule add limpeza --every 30s --body '{"text": "limpar"}'
    fila schedule add relatorio --cron '*/5 * * * *' --body '{"text": "relatório"}'   (cron in UTC)
    fila schedule list                 the schedules: name, when, next tick, messages sent
    fila schedule remove limpeza
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from shared.core import run_file
from shared.core.codec import dumps
from shared.core.connection import connect
from shared.messages.periodic import BadSchedule, Schedule, Schedules, parse_every


def main(argv: list[str] | None = None) -> int:
    """Run one schedule command."""
    parser = argparse.ArgumentParser(prog="fila schedule", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue", help="a named queue (QUEUES); the default queue without it")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add (or replace) a schedule")
    add.add_argument("name")
    interval = add.add_mutually_exclusive_group(required=True)
    interval.add_argument("--every", help="an interval: 30s, 5m, 1h, 2d (at least 1s)")
    interval.add_argument("--cron", help="a cron line of five fields, in UTC: '*/5 * * * *'")
    add.add_argument("--body", required=True, help="the message's body, as JSON")
    commands.add_parser("list", help="the schedules")
    remove = commands.add_parser("remove", help="remove a schedule by its name")
    remove.add_argument("name")
    args = parser.parse_args(argv)
    settings = run_file.settings_for_tool()
    english = settings.language == "en"
    queue = args.queue or settings.default_queue
    if queue not in settings.queue_names:
        parser.error(f"no queue is named {queue!r}: QUEUES declares {', '.join(settings.queue_names)}")
    schedules = Schedules(connect(settings), settings.for_queue(queue))
    if args.command == "add":
        try:
            body = dumps(json.loads(args.body))
            if len(body.encode()) > settings.message_max_bytes:
                raise BadSchedule(f"the body is larger than MESSAGE_MAX_BYTES ({settings.message_max_bytes})")
            schedule = Schedule(args.name, body, every_ms=parse_every(args.every) if args.every else None,
                                cron=args.cron, created_ms=int(time.time() * 1000))
            created = schedules.add(schedule)
        except json.JSONDecodeError as exc:
            parser.error(f"--body is not JSON: {exc}")
        except BadSchedule as exc:
            parser.error(str(exc))
        first = schedule.following(int(time.time() * 1000)) / 1000
        shown = datetime.fromtimestamp(first, UTC).isoformat(timespec="seconds")
        print((f"{'added' if created else 'replaced'} {args.name}: first message at {shown}") if english else
              (f"{'criado' if created else 'substituído'} {args.name}: primeira mensagem em {shown}"))
        return 0
    if args.command == "list":
        words = ("every", "next", "sent", "body") if english else ("a cada", "próxima", "enviadas", "corpo")
        for item in schedules.listing():
            when = f"{words[0]} {item['every_ms']} ms" if item["every_ms"] else f"cron '{item['cron']}' (UTC)"
            shown = datetime.fromtimestamp(item["next_at"], UTC).isoformat(timespec="seconds")
            print(f"{item['name']}  {when}  {words[1]} {shown}  {words[2]} {item['fired']}  "
                  f"{words[3]} {dumps(item['body'])[:80]}")
        return 0
    if not schedules.remove(args.name):
        print(f"no schedule is named {args.name}" if english else f"nenhum agendamento se chama {args.name}",
              file=sys.stderr)
        return 1
    print(f"removed {args.name}" if english else f"{args.name} removido")
    return 0


if __name__ == "__main__":
    sys.exit(main())
