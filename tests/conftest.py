"""Fixtures: one private redis-server per session, flushed before each test that uses it."""

from __future__ import annotations

import pytest

from shared.settings import Settings
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
