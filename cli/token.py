"""`fila token create|list|revoke`: temporary API tokens (Authorization: Bearer) for the write and admin API.

    fila token create --ttl 3600 --name ci    prints the token once; Redis keeps only its SHA-256, with the TTL
    fila token list                           the live tokens: id, name, expiry
    fila token revoke ID                      a token stops working at once
"""

from __future__ import annotations

import argparse
import sys
import time

from shared.core import run_file, tokens
from shared.core.connection import connect


def main(argv: list[str] | None = None) -> int:
    """Run one token command."""
    parser = argparse.ArgumentParser(prog="fila token", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="make a token (shown once)")
    create.add_argument("--ttl", type=int, default=3600, help="seconds it lives (default 3600)")
    create.add_argument("--name", default="cli", help="what it is for")
    commands.add_parser("list", help="the live tokens")
    revoke = commands.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id")
    args = parser.parse_args(argv)
    settings = run_file.settings_for_tool()
    english = settings.language == "en"
    client = connect(settings)
    if args.command == "create":
        if not 0 < args.ttl <= settings.token_ttl_max:
            parser.error(f"--ttl must be from 1 to {settings.token_ttl_max} seconds (TOKEN_TTL_MAX)")
        secret, record = tokens.create(client, args.name[:100], args.ttl)
        print(secret)
        print(f"id {record['id']}, name {record['name']}, expires in {args.ttl} s: this is the only time it is shown"
              if english else f"id {record['id']}, nome {record['name']}, expira em {args.ttl} s: ele só aparece "
              "esta vez", file=sys.stderr)
        return 0
    if args.command == "list":
        for record in tokens.listing(client):
            left = round(record["expires_at"] - time.time())
            print(f"{record['id']}  {record['name']}  {'expires in' if english else 'expira em'} {left} s")
        return 0
    if not tokens.revoke(client, args.id):
        print(f"no live token has the id {args.id}" if english else f"nenhum token vivo tem o id {args.id}",
              file=sys.stderr)
        return 1
    print(f"revoked {args.id}" if english else f"{args.id} revogado")
    return 0


if __name__ == "__main__":
    sys.exit(main())
