"""Central for a province: two `central run` processes on one PostgreSQL database, six kiosks uploading at once.

Real processes throughout: six kiosk stores with `kiosk-sync --once`, three sending to each central
process (as a reverse proxy would spread them), kiosks of one unit split between the two processes so
both add to the same unit's tallies at the same time. Every response is stored once and the tallies
equal a recomputation from the stored responses.
"""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import LiveCentral, free_port
from helpers import bulk_responses
from kiosk import indices
from kiosk.config import DEFAULT_QUESTIONNAIRE
from kiosk.questionnaire import load
from sync.central.store import database, reads, schema
from sync.central.store.tallies import tallies_between

ELEMENTS = {q.key: q.elements for q in load(DEFAULT_QUESTIONNAIRE).questions}
PER_KIOSK = 5_000
#: kiosk → (unit, which of the two central processes it sends to)
KIOSKS = {"xd-01": ("Sở Xây dựng", 0), "xd-02": ("Sở Xây dựng", 1), "xd-03": ("Sở Xây dựng", 0),
          "yt-01": ("Sở Y tế", 1), "yt-02": ("Sở Y tế", 0), "yt-03": ("Sở Y tế", 1)}


def uuids_of(db_path) -> set:
    conn = sqlite3.connect(db_path)
    try:
        return {row[0] for row in conn.execute("SELECT uuid FROM responses")}
    finally:
        conn.close()


def uploading(env):
    return subprocess.Popen([str(Path(sys.executable).parent / "kiosk-sync"), "--once"], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("central_url", ["postgresql"], indirect=True)
def test_two_central_processes_on_one_database_store_every_response_once(central_url, tmp_path):
    first = LiveCentral(central_url, free_port())
    assert first.cli("init").returncode == 0
    centrals = [first, LiveCentral(central_url, free_port())]
    envs, expected = {}, {}
    for number, (kiosk_id, (unit, to)) in enumerate(KIOSKS.items()):
        added = first.cli("add-kiosk", kiosk_id, "--unit", unit)
        assert added.returncode == 0, added.stderr
        db_path = tmp_path / f"{kiosk_id}.db"
        bulk_responses(db_path, PER_KIOSK, kiosk_id=kiosk_id, seed=number)
        expected[kiosk_id] = uuids_of(db_path)
        envs[kiosk_id] = {"KIOSK_DB": str(db_path), "KIOSK_ID": kiosk_id, "KIOSK_SECRET": added.stdout.strip(),
                          "CENTRAL_URL": centrals[to].url, "KIOSK_SYNC_BATCH": "250"}
    assert len(set().union(*expected.values())) == len(KIOSKS) * PER_KIOSK
    engine = database.engine_for(central_url)
    try:
        for central in centrals:
            central.start()
        started = time.monotonic()
        uploaders = {kiosk_id: uploading(env) for kiosk_id, env in envs.items()}
        for kiosk_id, process in uploaders.items():
            out, err = process.communicate(timeout=600)
            assert process.returncode == 0, (kiosk_id, out, err)
            assert out.startswith(f"Delivered: {PER_KIOSK} response(s) answered for by central ({PER_KIOSK} "
                                  f"accepted, 0 duplicate, 0 rejected)"), (kiosk_id, out)
        print(f"\n{len(KIOSKS) * PER_KIOSK} responses through 2 central processes in "
              f"{time.monotonic() - started:.1f} s")

        # One kiosk forgets central's answers and sends everything again, through the other process.
        conn = sqlite3.connect(envs["xd-01"]["KIOSK_DB"])
        conn.execute("DELETE FROM sync_acks")
        conn.commit()
        conn.close()
        again = uploading({**envs["xd-01"], "CENTRAL_URL": centrals[1].url})
        out, err = again.communicate(timeout=600)
        assert again.returncode == 0 and f"(0 accepted, {PER_KIOSK} duplicate, 0 rejected)" in out, (out, err)

        with engine.connect() as conn:
            stored = conn.execute(select(schema.responses.c.kiosk_id, schema.responses.c.uuid,
                                         schema.responses.c.seq)).all()
            held = conn.execute(select(func.count()).select_from(schema.quarantine)).scalar()
            events = conn.execute(select(schema.integrity_events.c.kind)).scalars().all()
        assert len(stored) == len(KIOSKS) * PER_KIOSK and held == 0
        assert not {"conflict", "altered", "two_installs"} & set(events), events
        for kiosk_id, uuids in expected.items():
            mine = [row for row in stored if row.kiosk_id == kiosk_id]
            assert {row.uuid for row in mine} == uuids, kiosk_id  # every response, once
            assert sorted(row.seq for row in mine) == list(range(1, PER_KIOSK + 1)), kiosk_id

        rows = reads.range_responses(engine, "2000-01-01", "2100-12-31")
        assert len(rows) == len(KIOSKS) * PER_KIOSK
        for include_flagged in (False, True):
            for unit in {unit for unit, _to in KIOSKS.values()}:
                tallies = tallies_between(engine, "2000-01-01", "2100-12-31", unit=unit)
                recomputed = indices.summarize([r for r in rows if r["unit"] == unit], ELEMENTS, include_flagged)
                assert recomputed["responses"] == 3 * PER_KIOSK
                assert indices.summarize_tallies(tallies, ELEMENTS, include_flagged) == recomputed, unit
            for kiosk_id in KIOSKS:
                tallies = tallies_between(engine, "2000-01-01", "2100-12-31", kiosk=kiosk_id)
                assert indices.summarize_tallies(tallies, ELEMENTS, include_flagged) == \
                    indices.summarize([r for r in rows if r["kiosk_id"] == kiosk_id], ELEMENTS, include_flagged)
    finally:
        for central in centrals:
            central.stop()
        engine.dispose()
