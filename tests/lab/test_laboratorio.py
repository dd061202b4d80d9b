"""docs/laboratorio.md followed from top to bottom on `make dev`: its commands run, their answers compared.

The test reads the document's blocks in order, as a student would:

- ```console: each `$ command` runs in a shell; the lines under it are what it must print (`...`
  stands for any text; a line of `...` alone for any lines). A command that changes nothing is
  tried again until it answers so (the web reloads the lab, a worker takes a moment); one that
  changes something runs once.
- ```python whose first line is `# lab/app.py: acrescente ao fim` is pasted at the end of the
  student's file; `# lab/app.py: corrija o trecho anterior` replaces the last paste.
- ```log: lines that must appear in what `make dev` prints (the first terminal).

`fila run --dev` runs from the checkout on free ports, with the lab's folder and var/ in a temp
directory; the document's addresses (localhost:5000, localhost:8500, `-p 6379`) are rewritten to
those ports, and redis-cli is given `--no-raw` to print as it does in a terminal.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import ROOT, Proc
from tests.support.redis_server import free_port

pytestmark = pytest.mark.slow

DOC = ROOT / "docs" / "laboratorio.md"
#: Commands that change something: they run once (the others are retried until their answer comes).
CHANGES = re.compile(r"/set/|/push/|/pop/|-X (POST|PUT|DELETE)|fib-job|carga\.sh|setex\.py|token create|printf|prove|"
                     r"/limite|/contador|localhost:\d+/$|/lab$|/fib")
SETTLE_SECONDS = 30.0


@dataclass
class Block:
    """One fenced block of the document."""

    kind: str
    text: str
    line: int


def blocks(markdown: str) -> list[Block]:
    """Return the fenced blocks, in order, with the line each starts at."""
    found, kind, lines, start = [], None, [], 0
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.startswith("```"):
            if kind is None:
                kind, lines, start = line[3:].strip(), [], number
            else:
                found.append(Block(kind, "\n".join(lines), start))
                kind = None
        elif kind is not None:
            lines.append(line)
    return found


def pattern(expected: list[str]) -> re.Pattern[str]:
    """Turn expected lines (with `...`) into a regular expression for the whole output."""
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n?)*?")
        else:
            parts.append(r"[^\n]*".join(re.escape(piece) for piece in line.rstrip().split("...")))
    return re.compile(r"\n".join(parts))


def commands(block: Block) -> list[tuple[str, list[str]]]:
    """Split a console block into (command, expected lines)."""
    found: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        else:
            found[-1][1].append(line)
    return found


class Lab:
    """`make dev` for the test, and what the document's commands need around it."""

    def __init__(self, tmp: Path):
        self.ports = {name: free_port() for name in ("WEB_PORT", "WEB_ALT_PORT", "DASHBOARD_PORT", "COMMANDER_PORT",
                                                     "REDIS_PORT")}
        self.folder = tmp / "lab"
        shutil.copytree(ROOT / "lab", self.folder, ignore=shutil.ignore_patterns("__pycache__"))
        self.work = tmp / "work"  # the student's shell: the checkout's tools, the lab's copy
        self.work.mkdir()
        for name in (".venv", "scripts", "docs"):
            (self.work / name).symlink_to(ROOT / name)
        (self.work / "lab").symlink_to(self.folder)
        from shared.core.settings import Settings

        # curl shows no progress meter when it prints to a terminal; here it prints to a pipe.
        (tmp / "curl").mkdir()
        (tmp / "curl" / ".curlrc").write_text("--silent\n--show-error\n")

        env = {k: v for k, v in os.environ.items() if k not in {n for n, _, _ in Settings.variables()}}
        env.pop("LANG", None)  # the lab's default language, whatever the machine's
        env.update({k: str(v) for k, v in self.ports.items()}, WORKERS="1", FILA_VAR=str(tmp / "var"),
                   LAB_DIR=str(self.folder), PYTHONUNBUFFERED="1", CURL_HOME=str(tmp / "curl"),
                   FILA_URL=f"http://localhost:{self.ports['WEB_PORT']}")
        self.env = env
        self.pasted: list[str] = []
        self.proc = Proc([sys.executable, "-m", "cli", "run", "--dev"], env, name="make-dev")
        self.proc.wait_for_line(r"Ctrl-C aqui para tudo", timeout=120)
        self.proc.wait_for_line(r"labworker\.1 +\| Nenhuma mensagem nova", timeout=60)

    def localize(self, text: str) -> str:
        """Point the document's addresses at this run's ports."""
        text = text.replace("localhost:5000", f"localhost:{self.ports['WEB_PORT']}")
        text = text.replace("localhost:8500", f"localhost:{self.ports['WEB_ALT_PORT']}")
        text = text.replace("127.0.0.1:6379", f"127.0.0.1:{self.ports['REDIS_PORT']}")
        return text.replace("redis-cli -p 6379", f"redis-cli --no-raw -p {self.ports['REDIS_PORT']}")

    def run(self, command: str, expected: list[str], where: int) -> None:
        """Run one command until it prints what the document says (once, if it changes something)."""
        wanted = pattern([self.localize(line) for line in expected])
        deadline = time.monotonic() + (0 if CHANGES.search(command) else SETTLE_SECONDS)
        while True:
            result = subprocess.run(["bash", "-c", self.localize(command)], cwd=self.work, env=self.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
            printed = result.stdout.rstrip("\n")  # both streams, in the order a terminal shows them
            if wanted.fullmatch(printed):
                return
            if time.monotonic() >= deadline:
                pytest.fail(f"docs/laboratorio.md line {where}: `{command}` printed\n{printed}\nexpected\n"
                            + "\n".join(expected))
            time.sleep(0.3)

    def paste(self, block: Block) -> None:
        """Paste a python block into the student's file, as its first line says."""
        header, _, code = block.text.partition("\n")
        target = self.folder / "app.py"
        text = target.read_text()
        if "corrija o trecho anterior" in header:
            text = text[: text.rindex(self.pasted.pop())]
        elif "acrescente ao fim" not in header:
            pytest.fail(f"docs/laboratorio.md line {block.line}: a lab/app.py paste says neither how nor where")
        piece = f"\n\n{code}\n"
        self.pasted.append(piece)
        target.write_text(text + piece)

    def expect_log(self, block: Block) -> None:
        """Wait for each of the block's lines in what make dev printed."""
        for line in block.text.splitlines():
            wanted = pattern([line])
            try:
                self.proc.wait_for_line(wanted.pattern, timeout=SETTLE_SECONDS)
            except Exception:
                pytest.fail(f"docs/laboratorio.md line {block.line}: no line like {line!r} in make dev's log")

    def stop(self) -> int | None:
        """Stop it as Ctrl-C does (the whole group), and return its exit code."""
        if self.proc.process.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                return self.proc.process.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.process.returncode


def test_the_lab_guide_from_top_to_bottom_on_make_dev(tmp_path):
    lab = Lab(tmp_path)
    ran = {"console": 0, "python": 0, "log": 0}
    try:
        for block in blocks(DOC.read_text()):
            if block.kind == "console":
                for command, expected in commands(block):
                    lab.run(command, expected, block.line)
                    ran["console"] += 1
            elif block.kind == "python" and block.text.startswith("# lab/app.py"):
                lab.paste(block)
                ran["python"] += 1
            elif block.kind == "log":
                lab.expect_log(block)
                ran["log"] += 1
    finally:
        code = lab.stop()
    # The guide is the test: it must hold the steps the lab is made of.
    assert ran["console"] >= 40 and ran["python"] >= 5 and ran["log"] >= 4, ran
    assert code == 0  # Ctrl-C: everything stopped, and said so with 0
