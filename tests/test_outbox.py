"""The kiosk's side of the wire: what is pending and central's verdicts (kiosk/outbox.py), on a real file."""

from helpers import add_responses

from kiosk import outbox, store


def test_verdicts_are_recorded_each_with_its_status_and_reason_and_a_second_answer_changes_nothing(tmp_path):
    path = tmp_path / "kiosk.db"
    add_responses(path, 6)
    verdicts = {1: ("accepted", None), 2: ("duplicate", None), 3: ("rejected", "conflict: số #3 đã có"),
                4: ("accepted", None), 5: ("rejected", 'its "comment" does not match')}
    with store.connect(path) as db:
        outbox.record_verdicts(db, "batch-1", verdicts)
        outbox.record_verdicts(db, "batch-2", {1: ("rejected", "later"), 6: ("accepted", None)})
        stored = {row["seq"]: (row["status"], row["reason"], row["batch_id"]) for row in db["sync_acks"].rows}
        assert [r["seq"] for r in outbox.pending(db, 10)] == []
    assert stored == {**{seq: (*verdict, "batch-1") for seq, verdict in verdicts.items()},
                      6: ("accepted", None, "batch-2")}  # the first answer for #1 stands
    assert all(type(seq) is int for seq in stored)


def test_pending_leaves_out_what_central_answered_for(tmp_path):
    path = tmp_path / "kiosk.db"
    add_responses(path, 5)
    with store.connect(path) as db:
        outbox.record_verdicts(db, "b", {2: ("accepted", None), 4: ("rejected", "altered")})
        assert [r["seq"] for r in outbox.pending(db, 10)] == [1, 3, 5]
        assert [r["seq"] for r in outbox.pending(db, 10, after=3)] == [5]
        assert outbox.status(db)["pending"] == 3 and outbox.status(db)["rejected"] == 1


def test_a_reason_that_is_not_text_is_kept_as_its_json(tmp_path):
    """Central sends text or null; anything else in a signed answer is kept as its JSON, never a crash."""
    path = tmp_path / "kiosk.db"
    add_responses(path, 3)
    with store.connect(path) as db:
        outbox.record_verdicts(db, "b", {1: ("rejected", ["a", 1]), 2: ("rejected", {"x": 1}), 3: ("rejected", 7)})
        assert {row["seq"]: row["reason"] for row in db["sync_acks"].rows} == {1: '["a", 1]', 2: '{"x": 1}', 3: "7"}
