"""A day tally's stored form as 0004 wrote it (``kiosk.indices.tally_record`` on that day), frozen for steps.

Steps that write or re-add stored tallies use these, never ``kiosk.indices``: if the application's form
changes, a new step converts the stored tallies, and these stay as they are.
"""

import json
from collections import Counter

#: Facts kept as {dossier code: count} rather than in ``counts``.
DOSSIER_KINDS = ("dossier", "dossier_unhappy")


def to_json(facts: Counter) -> str:
    """``{"counts": [[kind, item, value, n], ...], "dossier": {code: n}, "dossier_unhappy": {code: n}}``."""
    record = {"counts": [], **{kind: {} for kind in DOSSIER_KINDS}}
    for (kind, item, value), n in sorted(facts.items(), key=str):
        if kind in DOSSIER_KINDS:
            record[kind][item] = n
        else:
            record["counts"].append([kind, item, value, n])
    return json.dumps(record, ensure_ascii=False)


def from_json(text: str) -> Counter:
    """The facts of a stored tally: ``{(kind, item, value): n}``."""
    record = json.loads(text)
    facts = Counter({(kind, item, value): n for kind, item, value, n in record["counts"]})
    for kind in DOSSIER_KINDS:
        facts.update({(kind, code, ""): n for code, n in record[kind].items()})
    return facts
