"""The engine every container test shares: found or started once per session, stopped at the end."""

from __future__ import annotations

import time

import pytest

from tests.support import engine as engine_support
from tests.support.processes import ROOT

#: Seconds each stage of the container tests took, printed at the end of the session.
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session")
def engine():
    """A Docker engine with the base images (stand-ins where the real ones are not on it)."""
    began = time.monotonic()
    try:
        found = engine_support.start()
    except engine_support.EngineUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    engine_support.prepare_images(found)
    TIMINGS.update({f"engine: {k}": v for k, v in found.timings.items()})
    TIMINGS["engine: ready"] = time.monotonic() - began
    yield found
    found.stop()


@pytest.fixture(scope="session")
def fila_images(engine):
    """Build fila's own images (web, worker) once for every container test."""
    from tests.support.project import Project, env_file

    began = time.monotonic()
    directory = ROOT / "var" / "containers" / "build"
    directory.mkdir(parents=True, exist_ok=True)
    Project(engine, "fila-build", env_file(directory, engine)).compose("build", timeout=900)
    TIMINGS["fila images: build"] = time.monotonic() - began
    return engine


def pytest_terminal_summary(terminalreporter):
    """Print how long each container stage took (the note on issue 9 quotes these)."""
    if TIMINGS:
        terminalreporter.section("container timings")
        for stage, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{stage:40s} {seconds:7.1f} s")
