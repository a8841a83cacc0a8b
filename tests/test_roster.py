"""The roster at central (issue 13): units, counters and officers with stable ids; renames change no history."""

import pytest

from sync.central.store import roster
from sync.central.store.schema import CentralStoreError

UNIT = "Sở Xây dựng"


def test_a_kiosk_roster_lists_active_counters_and_officers_in_vietnamese_order(central_engine):
    roster.add_unit(central_engine, UNIT, "Sở Xây dựng tỉnh Đắk Lắk")
    roster.add_counter(central_engine, UNIT, "Q2", "Quầy 2")
    roster.add_counter(central_engine, UNIT, "Q1", "Quầy 1")
    ids = [roster.add_officer(central_engine, UNIT, name) for name in ("Đỗ Văn Bình", "Dương Thị Hà", "Ánh Tuyết",
                                                                        "An Khang")]
    retired = roster.add_officer(central_engine, UNIT, "Lê Văn Cũ", officer_id="CB-OLD")
    roster.retire_officer(central_engine, retired)
    roster.retire_counter(central_engine, "Q2")
    assert all(roster.ROSTER_ID.match(i) and i.startswith("cb-") and len(i) == 11 for i in ids)

    got = roster.kiosk_roster(central_engine, UNIT)

    assert got["counters"] == [{"id": "Q1", "name": "Quầy 1"}]
    assert [o["name"] for o in got["officers"]] == ["An Khang", "Ánh Tuyết", "Dương Thị Hà", "Đỗ Văn Bình"]
    assert {o["id"] for o in got["officers"]} == set(ids)
    assert roster.kiosk_roster(central_engine, "Không có") == {"counters": [], "officers": []}


def test_names_are_stored_nfc_and_trimmed_and_renames_keep_the_id(central_engine):
    roster.add_unit(central_engine, UNIT, "Sở")
    officer = roster.add_officer(central_engine, UNIT, "  Nguye\u0302\u0303n Văn Hùng ", officer_id="CB001")
    roster.rename_officer(central_engine, officer, "Nguyễn Văn Hưng")
    with central_engine.connect() as conn:
        row = roster.get_officer(conn, "CB001")
    assert (row["display_name"], row["active"], row["unit"]) == ("Nguyễn Văn Hưng", 1, UNIT)


@pytest.mark.parametrize(("call", "message"), [
    (lambda e: roster.add_officer(e, UNIT, "An", officer_id="có dấu"), "The officer id 'có dấu' is not valid"),
    (lambda e: roster.add_officer(e, UNIT, "A" * 81), "The officer's name must be 1 to 80 characters"),
    (lambda e: roster.add_officer(e, UNIT, "  "), "The officer's name must be 1 to 80 characters"),
    (lambda e: roster.add_officer(e, "Không có", "An"), "No unit 'Không có': add it first"),
    (lambda e: roster.add_counter(e, UNIT, "Q1", "Quầy khác"), "A counter with id 'Q1' already exists."),
    (lambda e: roster.add_unit(e, UNIT, "Lại"), f"The unit {UNIT!r} already exists."),
    (lambda e: roster.rename_counter(e, "Q9", "Quầy 9"), "No counter 'Q9'."),
    (lambda e: roster.retire_officer(e, "nobody"), "No officer 'nobody'."),
])
def test_bad_roster_input_is_refused_with_a_sentence_and_changes_nothing(central_engine, call, message):
    roster.add_unit(central_engine, UNIT, "Sở")
    roster.add_counter(central_engine, UNIT, "Q1", "Quầy 1")
    before = (roster.list_units(central_engine), roster.list_counters(central_engine),
              roster.list_officers(central_engine))
    with pytest.raises(CentralStoreError, match=message):
        call(central_engine)
    assert (roster.list_units(central_engine), roster.list_counters(central_engine),
            roster.list_officers(central_engine)) == before


def test_retiring_a_unit_retires_its_counters_and_officers(central_engine):
    roster.add_unit(central_engine, UNIT, "Sở")
    roster.add_counter(central_engine, UNIT, "Q1", "Quầy 1")
    roster.add_officer(central_engine, UNIT, "An")
    roster.retire_unit(central_engine, UNIT)
    assert roster.kiosk_roster(central_engine, UNIT) == {"counters": [], "officers": []}
    assert [row["active"] for row in roster.list_officers(central_engine, UNIT)] == [0]
    with pytest.raises(CentralStoreError, match="is retired"):
        roster.add_officer(central_engine, UNIT, "Bình")


# --- old responses' officer names mapped to roster ids (store.roster_match) --------------------------

def stored_ids(engine):
    from sqlalchemy import select

    from sync.central.store import schema
    with engine.connect() as conn:
        return {table.name: sorted(conn.execute(select(table.c.officer_id)).scalars(), key=str)
                for table in (schema.responses, schema.cases, schema.compliments)}


def officer_tallies(engine):
    """{(officer, officer_id): responses} of the per-officer day tallies."""
    from kiosk import indices
    from sync.central.store.tallies import tallies_between
    rows = tallies_between(engine, "2000-01-01", "2999-12-31", detail=True)
    keys = {(r["officer"], r["officer_id"]) for r in rows}
    return {key: indices.summarize_tallies([r for r in rows if (r["officer"], r["officer_id"]) == key])["responses"]
            for key in keys}


def test_match_lists_then_maps_names_of_exactly_one_active_officer(old_responses):
    from sync.central.store import roster_match
    listed = roster_match.match(old_responses)
    assert [(r["name"], r["responses"], r["officer_id"]) for r in listed["mapped"]] == [("An", 2, "cb-an")]
    assert [(r["name"], r["responses"], [i for i, _ in r["candidates"]]) for r in listed["unresolved"]] == [
        ("Bình", 2, ["cb-binh-1", "cb-binh-2"]), ("Cường", 1, [])]
    assert stored_ids(old_responses)["responses"] == [None] * 6  # listing changes nothing

    roster_match.match(old_responses, apply=True)
    assert stored_ids(old_responses) == {"responses": [None, None, None, None, "cb-an", "cb-an"],
                                         "cases": [None, "cb-an"], "compliments": ["cb-an"]}
    assert officer_tallies(old_responses) == {("An", "cb-an"): 2, ("Bình", ""): 2, ("Cường", ""): 1, ("", ""): 1}
    assert [r["name"] for r in roster_match.unresolved(old_responses)] == ["Bình", "Cường"]


def test_resolve_maps_one_name_by_hand_and_refuses_what_cannot_be(old_responses):
    from sync.central.store import roster_match
    for args, message in [((UNIT, "Bình", "cb-nobody"), "No officer 'cb-nobody'."),
                          (("Khác", "Bình", "cb-binh-2"), "belongs to 'Sở Xây dựng', not 'Khác'"),
                          ((UNIT, "Không ai", "cb-binh-2"), "No response of 'Sở Xây dựng' without an officer id")]:
        with pytest.raises(CentralStoreError, match=message):
            roster_match.resolve(old_responses, *args)
    assert stored_ids(old_responses)["responses"] == [None] * 6
    roster.retire_officer(old_responses, "cb-binh-2")  # a retired officer's old responses are still theirs
    assert roster_match.resolve(old_responses, UNIT, "Bình", "cb-binh-2") == 2
    assert officer_tallies(old_responses)[("Bình", "cb-binh-2")] == 2
    assert [r["name"] for r in roster_match.unresolved(old_responses)] == ["An", "Cường"]


def test_a_retired_officer_is_not_matched_by_name(old_responses):
    from sync.central.store import roster_match
    roster.retire_officer(old_responses, "cb-an")
    assert roster_match.match(old_responses, apply=True)["mapped"] == []
    assert stored_ids(old_responses)["responses"] == [None] * 6
