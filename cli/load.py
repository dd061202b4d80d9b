"""`fila load dados.csv`: send a `chave,valor` CSV to /api/bulk, with progress.

The file goes in chunks of lines; each chunk is one request. Bad lines are reported with
their line number in the file; the good ones still load.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tqdm import tqdm


def post_chunk(url: str, lines: list[str]) -> dict[str, Any]:
    """POST lines to /api/bulk and return its JSON answer."""
    request = urllib.request.Request(url, data="\n".join(lines).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "text/csv; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            answer: dict[str, Any] = json.loads(reply.read())
            return answer
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            refused: dict[str, Any] = json.loads(body)
            return refused
        except ValueError:
            raise SystemExit(f"{url}: HTTP {exc.code}: {body[:200]!r}") from None


def load(path: Path, base_url: str, chunk: int, quiet: bool = False) -> dict[str, Any]:
    """Send the file; return the totals (loaded, lines, rejected with file line numbers)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    url = base_url.rstrip("/") + "/api/bulk"
    totals: dict[str, Any] = {"loaded": 0, "lines": len(lines), "rejected": [], "rejected_count": 0}
    start = time.perf_counter()
    with tqdm(total=len(lines), unit="line", disable=quiet, file=sys.stderr) as bar:
        for offset in range(0, len(lines), chunk):
            part = lines[offset:offset + chunk]
            reply = post_chunk(url, part)
            if "error" in reply and not reply.get("rejected"):
                raise SystemExit(f"{url}: {reply['error']}: {reply.get('message', '')} (lines {offset + 1}-"
                                 f"{offset + len(part)}; {totals['loaded']} key(s) loaded before)")
            totals["loaded"] += reply["loaded"]
            totals["rejected"] += [{**r, "line": r["line"] + offset} for r in reply["rejected"]]
            totals["rejected_count"] += reply.get("rejected_count", len(reply["rejected"]))
            bar.update(len(part))
    totals["seconds"] = round(time.perf_counter() - start, 3)
    return totals


def main(argv: list[str] | None = None) -> int:
    """Load a CSV; exit 0 when every line loaded, 1 when some were rejected."""
    parser = argparse.ArgumentParser(prog="fila load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", type=Path, help="file of chave,valor lines")
    parser.add_argument("--url", default="http://localhost:5000", help="fila's web address")
    parser.add_argument("--chunk", type=int, default=10_000, help="lines per request")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    totals = load(args.csv, args.url, args.chunk, args.quiet)
    rate = totals["lines"] / totals["seconds"] if totals["seconds"] else 0
    print(f"{totals['loaded']} key(s) loaded from {totals['lines']} line(s) in {totals['seconds']}s "
          f"({rate:,.0f} lines/s); {totals['rejected_count']} line(s) rejected")
    for rejected in totals["rejected"][:50]:
        print(f"  line {rejected['line']}: {rejected['error']}")
    if totals["rejected_count"] > 50:
        print(f"  ... and {totals['rejected_count'] - 50} more")
    return 1 if totals["rejected_count"] else 0


if __name__ == "__main__":
    sys.exit(main())
