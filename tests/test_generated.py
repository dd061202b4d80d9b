"""What fila generates from one source is current: `make generated` has been run after every change."""

from __future__ import annotations

import subprocess
import sys

from tests.support.processes import ROOT


def test_every_generated_file_is_current():
    run = subprocess.run([sys.executable, str(ROOT / "deploy" / "generate.py"), "--check"], capture_output=True,
                         text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
