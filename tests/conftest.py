"""Fixtures: one private redis-server per session, flushed before each test that uses it."""

from __future__ import annotations

import pytest

from shared.core.settings import Settings
from tests.support.redis_server import RedisServer
from web import create_app


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def rdb(redis_server):
    client = redis_server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def settings(redis_server, rdb):
    return Settings(redis_url=redis_server.url, log_level="WARNING")


@pytest.fixture
def app(settings):
    return create_app({"SETTINGS": settings, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def web_url(settings):
    """The web app served by granian (as make run and compose serve it) on a free port."""
    from tests.support.processes import start_granian
    from tests.support.redis_server import free_port

    port = free_port()
    server = start_granian(settings, port, workers=1, threads=2)
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def no_process_outlives_its_test(request):
    """Stop every process a test started and left running (a test that fails midway included).

    Fixtures of a wider scope started theirs before this one's snapshot and keep them. A test that
    passes yet leaves one behind fails here: it must stop what it starts.
    """
    from tests.support import processes, redis_server

    before = (len(processes.LIVE), len(redis_server.LIVE))
    yield
    left = [proc for proc in processes.LIVE[before[0]:] if proc.alive()]
    servers = [server for server in redis_server.LIVE[before[1]:] if server.poll() is None]
    for proc in left:
        proc.kill()
    for server in servers:
        server.kill()
        server.wait()
    del processes.LIVE[before[0]:]
    del redis_server.LIVE[before[1]:]
    report = getattr(request.node, "rep_call", None)
    if (left or servers) and report is not None and report.passed:
        pytest.fail(f"the test left processes running: {[proc.name for proc in left]} and {len(servers)} "
                    "redis-server(s); they were killed", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test (the fixture above reads whether the test passed)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


OPTED_OUT_BANNER = (
    "!" * 78 + "\n"
    "!! CONTAINER TESTS LEFT OUT: FILA_CONTAINER_TESTS=skip was set.\n"
    "!! compose, Swarm and the other engine tests did NOT run; this is not a full test run.\n"
    + "!" * 78
)


def pytest_collection_modifyitems(config, items):
    """Leave the container tests out only when the user said so explicitly (FILA_CONTAINER_TESTS=skip)."""
    from tests.support.engine import opted_out

    if not opted_out():
        return
    kept, left_out = [], []
    for item in items:
        (left_out if item.get_closest_marker("containers") else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_terminal_summary(terminalreporter):
    """Say loudly that the container tests were left out, when they were."""
    from tests.support.engine import opted_out

    if opted_out():
        terminalreporter.write_line(OPTED_OUT_BANNER, red=True, bold=True)
