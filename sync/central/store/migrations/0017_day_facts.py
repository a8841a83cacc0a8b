"""Every unit's facts per day in one table (``schema.day_facts``): ``unit_day_facts`` added up over the units,
so the trends of every unit read one row per day and fact (issue 11's trends target at 10 million responses);
filled from the unit_day_facts a store holds."""

from sqlalchemy import text

DAY_FACTS = """
CREATE TABLE day_facts (
    local_day VARCHAR(10) NOT NULL, flagged SMALLINT NOT NULL, kind VARCHAR(20) NOT NULL,
    item VARCHAR(64) NOT NULL, value VARCHAR(64) NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (local_day, flagged, kind, item, value))"""

FACTS_OF_EVERY_UNIT = """
INSERT INTO day_facts (local_day, flagged, kind, item, value, n)
SELECT local_day, flagged, kind, item, value, SUM(n) FROM unit_day_facts
GROUP BY local_day, flagged, kind, item, value"""


def upgrade(conn):
    conn.execute(text(DAY_FACTS + (" WITHOUT ROWID" if conn.dialect.name == "sqlite" else "")))
    conn.execute(text(FACTS_OF_EVERY_UNIT))
