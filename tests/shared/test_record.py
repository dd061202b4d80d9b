"""The status record: one module builds it (in Python, or as a template for Lua) and reads it back."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from shared.core.codec import dumps
from shared.core.ids import new_id
from shared.messages import record
from shared.messages.status import MessageStatus


@given(result=st.dictionaries(st.text(), st.integers() | st.text()), attempts=st.integers(0, 99),
       worker=st.text(min_size=1))
def test_done_record_reads_back(result, attempts, worker):
    raw = record.done(dumps(worker), attempts, 10.5, 11.25, 750.0, dumps(result))
    data = record.parse(raw)
    assert data == json.loads(raw)
    assert (data["status"], data["worker"], data["attempts"], data["result"]) == ("done", worker, attempts, result)
    view = record.describe("01ABC", data)
    assert view["started_at"] == 10.5 and view["latency_ms"] == 750.0 and view["ms"] == 750.0


@given(error=st.text(), attempts=st.integers(1, 99), envelope=st.text())
def test_templates_are_filled_like_lua_fills_them(error, attempts, envelope):
    requeued = record.reclaimed_template(error, 12.0) % attempts
    assert json.loads(requeued) == {"status": "queued", "error": error, "attempts": attempts, "finished_at": 12.0}
    dead = record.parse(record.dead_template(error, 12.0) % (attempts, json.dumps(envelope)))
    assert dead == {"status": "dead", "error": error, "attempts": attempts, "finished_at": 12.0, "envelope": envelope}
    assert record.envelope(dead) == envelope


def test_failed_and_queued_records():
    failed = record.parse(record.failed(MessageStatus.QUEUED, "ValueError: x", "w1", 2, 1.0, 2.0, 3.14159))
    assert failed == {"status": "queued", "error": "ValueError: x", "worker": "w1", "attempts": 2,
                      "enqueued_at": 1.0, "finished_at": 2.0, "ms": 3.142}
    message_id = new_id(1000.0)
    assert record.queued(message_id) == {"status": "queued", "attempts": 0, "enqueued_at": 1000.0}
    assert record.describe(message_id, record.queued(message_id))["latency_ms"] is None
