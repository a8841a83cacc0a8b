"""The unit tallies' counts one fact a row (``schema.unit_day_facts``), so the trends over many days add them
up in the database; filled from the unit tallies a store holds (fixed SQL per database)."""

from sqlalchemy import text

UNIT_DAY_FACTS = """
CREATE TABLE unit_day_facts (
    local_day VARCHAR(10) NOT NULL, flagged SMALLINT NOT NULL, kind VARCHAR(20) NOT NULL,
    item VARCHAR(64) NOT NULL, value VARCHAR(64) NOT NULL, unit VARCHAR(64) NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (local_day, flagged, kind, item, value, unit))"""

#: Each stored unit tally's counts, one fact a row (a tally names each fact once).
FACTS_FROM_TALLIES = {
    "sqlite": """
INSERT INTO unit_day_facts (local_day, flagged, kind, item, value, unit, n)
SELECT t.local_day, t.flagged, json_extract(e.value, '$[0]'), json_extract(e.value, '$[1]'),
       CAST(json_extract(e.value, '$[2]') AS TEXT), t.unit, json_extract(e.value, '$[3]')
FROM unit_day_tallies AS t, json_each(t.tally, '$.counts') AS e""",
    "postgresql": """
INSERT INTO unit_day_facts (local_day, flagged, kind, item, value, unit, n)
SELECT t.local_day, t.flagged, e ->> 0, e ->> 1, e ->> 2, t.unit, CAST(e ->> 3 AS INTEGER)
FROM unit_day_tallies AS t, json_array_elements(CAST(t.tally AS json) -> 'counts') AS e""",
}


def upgrade(conn):
    sqlite = conn.dialect.name == "sqlite"
    conn.execute(text(UNIT_DAY_FACTS + (" WITHOUT ROWID" if sqlite else "")))
    conn.execute(text(FACTS_FROM_TALLIES[conn.dialect.name]))
