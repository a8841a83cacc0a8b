"""A validated batch made ready to store: the work on it that needs no store.

Each response's hashes are checked, its ``responses`` row is made, and, for the usual batch whose every response
is new, its tallies are counted and the responses that open a case or are compliments are found. `central run`
does this in its checking worker (``sync.central.checking``), on another CPU, while the server stores the batch
before; ``sync.central.ingest`` then judges each response against the store and writes what it accepted.

What crosses from the worker is kept small (it is pickled): the rows are tuples, and the batch's own responses
are not copied.
"""

from functools import lru_cache
from operator import itemgetter

from kiosk import chain
from kiosk.clock import local_today, parse_utc
from kiosk.text import nfc

from sync import wire

from .cases import compliments_among, opening
from .store import tallies
from .store.schema import responses as responses_table

#: The columns of a ``responses`` row as ``Prepared.rows`` holds them: all but ``id`` and ``received_utc``,
#: which are given when the row is stored (``ROW_COLUMNS`` is the order ``ingest`` inserts them in).
MADE_COLUMNS = tuple(c.name for c in responses_table.columns if c.name not in ("id", "received_utc"))
ROW_COLUMNS = ("id", "received_utc", *MADE_COLUMNS)
_NAMES = {name: index for index, name in enumerate(MADE_COLUMNS)}
_made_values = itemgetter(*MADE_COLUMNS)
#: What a kept response (``Prepared.kept``) takes from its row.
_KEPT = ("counter", "officer", "officer_id", "counter_id", "unit", "local_day")
#: What counting a response's tallies and finding its case need from its row (``Prepared``: the rest from the wire).
_COUNTED = ("local_day", "unit", "kiosk_id", "counter", "counter_id", "officer", "officer_id", "dossier_code",
            "comment_hash")
_counted_values = itemgetter(*(_NAMES[name] for name in _COUNTED))


def _private_problem(response):
    private = response.get("private") or {}
    for field, hash_field in (("comment", "comment_hash"), ("phone", "contact_hash")):
        text = private.get(field)
        if text is None:
            continue
        if chain.private_hash(private[f"{field}_salt"], text) != response[hash_field]:
            return f"its {field} does not match the hash in the chain (altered)"
    return None


def altered(response, record):
    """Why a response does not match its own hashes, or None (``record``: its ``chain.chained`` part)."""
    if wire.record_hash(record) != response["hash"] and chain.record_hash(response) != response["hash"]:
        return "its content does not match its hash (altered)"  # confirmed by the reference encoder
    return _private_problem(response)


@lru_cache(maxsize=4096)
def _local_day(utc_hour: str) -> str:
    """The day in Asia/Ho_Chi_Minh of a UTC hour such as '2026-01-31T17' (cached: it is per hour)."""
    return local_today(parse_utc(utc_hour + ":00:00.000Z")).isoformat()


def made_row(response, record, unit, batch_id, install_id="") -> tuple:
    """The ``responses`` row of a wire response as a tuple in ``MADE_COLUMNS`` order: counter and officer in
    NFC, JSON columns in canonical JSON, its day in Asia/Ho_Chi_Minh. `record`: its ``chain.chained`` part."""
    values = {**record, "counter": nfc(response["counter"]), "officer": nfc(response["officer"]),
              "hash": response["hash"], "unit": unit, "local_day": _local_day(response["created_utc"][:13]),
              "batch_id": batch_id, "install_id": install_id,
              "officer_id": response.get("officer_id"), "counter_id": response.get("counter_id")}
    for name in ("answers", "reasons", "flags"):
        values[name] = "[]" if record[name] == [] else wire.canonical_json(record[name])
    return _made_values(values)


def row(response, unit, batch_id, received, install_id="") -> dict:
    """The ``responses`` row of a wire response (without ``id``) as a dict: ``made_row`` and ``received_utc``."""
    made = made_row(response, chain.chained(response), unit, batch_id, install_id)
    return {**dict(zip(MADE_COLUMNS, made, strict=True)), "received_utc": received}


class Prepared:
    """A validated batch (``payload``) made ready to store for a kiosk of `unit`:

    - ``altered``: ``{index: reason}`` of the responses that do not match their own hashes (``altered``);
    - ``rows``: each response's row (``made_row``);
    - for a batch whose every response is accepted: ``counted``, its tallies counted
      (``tallies.count_tallies``), ``whys``, ``{index: why}`` of those that open a case (``cases.opening``),
      and ``praised``, the indexes of its compliments.
    """

    def __init__(self, payload: dict, unit: str):
        batch_id, install_id = payload["batch_id"], (payload.get("install") or {}).get("id", "")
        self.unit, self.altered, self.rows = unit, {}, []
        for index, response in enumerate(payload["responses"]):
            record = chain.chained(response)
            if (reason := altered(response, record)):
                self.altered[index] = reason
            self.rows.append(made_row(response, record, unit, batch_id, install_id))
        every = [{**dict(zip(_COUNTED, _counted_values(values), strict=True)), "answers": response["answers"],
                  "reasons": response["reasons"], "flags": response["flags"],
                  "has_comment": response["comment_hash"] is not None}
                 for response, values in zip(payload["responses"], self.rows, strict=True)]
        self.counted = tallies.count_tallies(every)
        self.whys = opening(every)
        self.praised = compliments_among(every, self.whys)

    def kept(self, items, index, received, response_id) -> dict:
        """Response `index` of the batch's `items` as ingest keeps it once stored: the wire dict with counter and
        officer in NFC, unit, local_day, has_comment, received_utc and its id."""
        values = self.rows[index]
        return {**items[index], **{name: values[_NAMES[name]] for name in _KEPT},
                "has_comment": values[_NAMES["comment_hash"]] is not None,
                "received_utc": received, "id": response_id}

    def stored_row(self, index, received, response_id) -> tuple:
        """Row `index` as it is inserted, in ``ROW_COLUMNS`` order."""
        return (response_id, received, *self.rows[index])

    def __eq__(self, other):
        return type(other) is Prepared and vars(self) == vars(other)
