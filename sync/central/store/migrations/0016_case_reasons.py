"""The case queue's reason filter as a range (issue 12's speed target): ``case_reasons`` holds one row per
case and each of its why codes (comment, low_rating, extra_request; never a PAKN's 'pakn') and reason
chips, as the case's ``why`` and ``reasons`` columns list them; filled here from the cases a store holds
(fixed SQL per database: the two comma-separated lists split into rows)."""

from sqlalchemy import text

CASE_REASONS = (
    "CREATE TABLE case_reasons (reason VARCHAR(64) NOT NULL, case_id INTEGER NOT NULL, "
    "PRIMARY KEY (reason, case_id), FOREIGN KEY(case_id) REFERENCES cases (id))",
    "CREATE INDEX case_reasons_case ON case_reasons (case_id)",  # a case's rows, when a case is deleted
)

#: Each case's why codes and reason chips, one row each ('' and 'pakn' left out).
REASONS_FROM_CASES = {
    "sqlite": """
WITH RECURSIVE split (case_id, part, rest) AS (
    SELECT id, '', why || ',' || COALESCE(reasons, '') || ',' FROM cases
    UNION ALL
    SELECT case_id, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
    FROM split WHERE rest <> '')
INSERT INTO case_reasons (reason, case_id)
SELECT DISTINCT part, case_id FROM split WHERE part NOT IN ('', 'pakn')""",
    "postgresql": """
INSERT INTO case_reasons (reason, case_id)
SELECT DISTINCT part, id FROM cases, unnest(string_to_array(why || ',' || COALESCE(reasons, ''), ',')) AS part
WHERE part NOT IN ('', 'pakn')""",
}


def upgrade(conn):
    sqlite = conn.dialect.name == "sqlite"
    conn.execute(text(CASE_REASONS[0] + (" WITHOUT ROWID" if sqlite else "")))
    conn.execute(text(CASE_REASONS[1]))
    conn.execute(text(REASONS_FROM_CASES[conn.dialect.name]))
