"""The status record: one typed definition; what it writes, and what its templates make, reads back the same."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.core.codec import dumps
from shared.core.ids import new_id
from shared.messages import record
from shared.messages.record import Record
from shared.messages.status import MessageStatus


@given(result=st.dictionaries(st.text(), st.integers() | st.text()), attempts=st.integers(0, 99),
       worker=st.text(min_size=1))
def test_done_record_reads_back(result, attempts, worker):
    raw = record.done(dumps(worker), attempts, 10.5, 11.25, 750.0, dumps(result))
    parsed = Record.parse(raw)
    assert parsed == Record(MessageStatus.DONE, worker=worker, attempts=attempts, enqueued_at=10.5,
                            finished_at=11.25, ms=750.0, result=result)
    assert json.loads(raw) == json.loads(parsed.dump())  # the fast path's template writes what dump() writes
    view = parsed.describe("01ABC")
    assert view["started_at"] == 10.5 and view["latency_ms"] == 750.0 and view["ms"] == 750.0


@given(error=st.text(), attempts=st.integers(1, 99), envelope=st.text())
def test_templates_are_filled_like_lua_fills_them(error, attempts, envelope):
    requeued = Record.parse(record.reclaimed_template(error, 12.0) % attempts)
    assert requeued == Record(MessageStatus.QUEUED, error=error, attempts=attempts, finished_at=12.0)
    dead = Record.parse(record.dead_template(error, 12.0) % (attempts, json.dumps(envelope)))
    assert dead == Record(MessageStatus.DEAD, error=error, attempts=attempts, finished_at=12.0, envelope=envelope)


def test_failed_and_queued_records():
    failed = Record.parse(record.failed(MessageStatus.QUEUED, "ValueError: x", "w1", 2, 1.0, 2.0, 3.14159))
    assert failed == Record(MessageStatus.QUEUED, error="ValueError: x", worker="w1", attempts=2, enqueued_at=1.0,
                            finished_at=2.0, ms=3.142)
    message_id = new_id(1000.0)
    assert Record.queued(message_id) == Record(MessageStatus.QUEUED, enqueued_at=1000.0)
    assert Record.queued(message_id).describe(message_id)["latency_ms"] is None


def test_templates_follow_the_record_s_fields_and_refuse_others():
    order = [spec.name for spec in fields(Record)]
    keys = list(json.loads(record.done('"w"', 0, 1.0, 2.0, 3.0, "1")))
    assert keys == [name for name in order if name in keys]  # the record's order
    with pytest.raises(ValueError, match="not fields"):
        record.template(MessageStatus.DONE, outcome="%s")
    with pytest.raises(ValueError, match="known status"):
        Record.parse('{"status": "failed"}')
