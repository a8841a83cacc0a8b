"""The anti-abuse flags: a burst of identical responses is flagged, the next different one is not."""

import time

from helpers import Citizen, all_responses
from kiosk import drafts, indices, store

ALL_FIVES = {"overall": "5", "guidance": "5", "attitude": "5", "fairness": "5", "timeliness": "5",
             "extra_request": "no", "visits": "1"}


def figures(app):
    db = store.connect(app.config["KIOSK"].db_path)
    try:
        responses = [{"answers": r["answers"], "flags": r["flags"]} for r in all_responses(db)]
        return all_responses(db), indices.summarize(responses)
    finally:
        db.close()


def test_a_genuine_complaint_after_a_burst_is_not_flagged(make_app):
    app = make_app()  # the default policy: more than 5 alike within 120 s is a burst
    citizen = Citizen(app.test_client())
    started = time.monotonic()
    for _ in range(8):
        citizen.full_response(ALL_FIVES)
    assert time.monotonic() - started < 2
    citizen.answer("overall", "1")  # a real citizen, a second later, taking their time
    time.sleep(2.1)
    citizen.send()

    stored, summary = figures(app)
    assert len(stored) == 9  # every flagged response is kept
    assert ["burst" in r["flags"] for r in stored] == [False] * 5 + [True] * 3 + [False]
    assert stored[-1]["flags"] == [] and stored[-1]["answers"] == {"overall": 1}
    assert summary["questions"]["overall"]["distribution"]["1"] == 1  # the complaint counts


def test_a_burst_of_identical_taps_is_flagged_even_when_incomplete(make_app):
    app = make_app(env={"KIOSK_BURST_LIMIT": "2"})
    client = app.test_client()
    citizen = Citizen(client)
    for value in ["5", "5", "5", "3", "5"]:  # someone tapping the welcome face and walking off
        citizen.answer("overall", value)
        client.get("/reset")
    stored, _ = figures(app)
    assert [r["flags"] for r in stored] == [[], [], ["burst"], [], ["burst"]]
    assert all(r["complete"] == 0 for r in stored)


def test_responses_alike_outside_the_window_are_not_a_burst(tmp_path):
    from datetime import timedelta

    from kiosk.clock import now_utc
    from kiosk.flags import FlagPolicy

    policy = FlagPolicy(min_seconds=0, burst_limit=1, burst_window=60)
    store.init(tmp_path / "k.db", "k")
    db = store.connect(tmp_path / "k.db")
    start = now_utc()
    for minutes in (0, 2, 2):
        moment = start + timedelta(minutes=minutes)
        draft = drafts.start_draft(db, "2026.1", moment)
        drafts.save_answer(db, draft, "overall", 4, moment)
        drafts.finish_draft(db, draft, complete=True, now=moment, policy=policy)
    assert [r["flags"] for r in all_responses(db)] == [[], [], ["burst"]]
    db.close()
