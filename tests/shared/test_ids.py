"""ULIDs: sortable by time, unique in a batch."""

from __future__ import annotations

from shared.core.ids import id_minute, id_time, is_valid, new_id, new_ids


def test_ids_sort_by_time_and_are_unique():
    early, late = new_id(1000.0), new_id(2000.0)
    assert early < late
    assert id_time(late) == 2000.0 and id_time("nope") is None
    assert id_minute(new_id(3600.0)) == 60
    batch = new_ids(1000, 3000.0)
    assert len(set(batch)) == 1000 and all(is_valid(i) for i in batch)


def test_an_id_supply_draws_a_batch_once_and_only_when_asked():
    from shared.core.ids import IdSupply

    supply = IdSupply(3, 5000.0)
    assert supply._ids == []  # nothing drawn until an id is asked for
    drawn = [supply(), supply(), supply(), supply()]
    assert len(set(drawn)) == 4 and all(is_valid(i) and id_time(i) == 5000.0 for i in drawn)
