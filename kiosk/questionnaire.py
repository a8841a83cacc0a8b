"""The questionnaire: a TOML file the department edits, checked at start.

A broken file raises ``QuestionnaireError`` whose message names the file and
the field, e.g. ``questions[2].kind must be 'rating' or 'choice', not 'stars'``.
"""

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("vi", "en")
KINDS = ("rating", "choice")
SCALE = (1, 2, 3, 4, 5)
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
VALUE_PATTERN = re.compile(r"^[a-z0-9+_-]{1,16}$")
#: The stored answer "does not apply to me" (e.g. no result received yet): not a rating,
#: never counted in a rating figure (see ``kiosk.indices``).
NOT_APPLICABLE = "na"


class QuestionnaireError(Exception):
    """The questionnaire file is missing or broken; the message names the field."""


@dataclass(frozen=True)
class Option:
    value: str
    text: dict
    extra: bool = False  # "not applicable" beside a rating scale, shown apart from the faces


@dataclass(frozen=True)
class Question:
    key: str
    kind: str
    text: dict
    options: tuple
    sipas_items: tuple
    elements: tuple
    short: dict  # a few words for tables and charts; the full text when the file gives none

    def parse(self, raw: str):
        """Return the stored form of a posted answer, or None if it is not an option."""
        for option in self.options:
            if option.value == raw:
                return int(raw) if self.kind == "rating" and not option.extra else raw
        return None

    def shown(self, value, lang: str) -> str:
        """A stored answer as staff read it: a rating as its number (1-5), any other answer (a choice,
        "not applicable") as its option's text in `lang`; an unknown value as it is."""
        if self.kind == "rating" and isinstance(value, int):
            return str(value)
        option = next((o for o in self.options if o.value == str(value)), None)
        return option.text[lang] if option else str(value)


@dataclass(frozen=True)
class Reason:
    key: str
    text: dict
    questions: tuple


@dataclass(frozen=True)
class Questionnaire:
    version: str
    title: dict
    privacy_purpose: dict
    reasons_at_or_below: int
    questions: tuple
    reasons: tuple

    def question(self, key: str):
        return next((q for q in self.questions if q.key == key), None)

    def neighbour(self, key: str, step: int):
        """The key `step` screens away from `key`; None past either end."""
        keys = [q.key for q in self.questions]
        index = keys.index(key) + step
        return keys[index] if 0 <= index < len(keys) else None

    def low_rated(self, answers: dict) -> list:
        return [
            q.key for q in self.questions
            if q.kind == "rating" and isinstance(answers.get(q.key), int)
            and answers[q.key] <= self.reasons_at_or_below
        ]

    def reasons_for(self, answers: dict) -> list:
        """Reasons to offer: those tied to a low-rated question, or to none."""
        low = set(self.low_rated(answers))
        if not low:
            return []
        return [r for r in self.reasons if not r.questions or low & set(r.questions)]


class _Checker:
    """Reads fields from the parsed TOML, raising one sentence per problem."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, problem: str):
        raise QuestionnaireError(f"{self.source}: {where} {problem}.")

    def get(self, table: dict, key: str, where: str, kind, required=True, default=None):
        path = f"{where}.{key}" if where else key
        if key not in table:
            if required:
                self.fail(path, "is missing")
            return default
        value = table[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            names = {str: "a string", int: "a whole number", list: "a list", dict: "a table"}
            self.fail(path, f"must be {names.get(kind, kind.__name__)}, not {value!r}")
        return value

    def text(self, table: dict, key: str, where: str) -> dict:
        """A {vi, en} pair of non-empty strings, normalised to NFC."""
        path = f"{where}.{key}" if where else key
        value = self.get(table, key, where, dict)
        result = {}
        for lang in LANGUAGES:
            words = self.get(value, lang, path, str)
            if not words.strip():
                self.fail(f"{path}.{lang}", "is empty")
            result[lang] = unicodedata.normalize("NFC", words.strip())
        return result

    def key(self, table: dict, where: str, seen: set) -> str:
        key = self.get(table, "key", where, str)
        if not KEY_PATTERN.match(key):
            self.fail(f"{where}.key", f"must be lower-case letters, digits or '_', not {key!r}")
        if key in seen:
            self.fail(f"{where}.key", f"repeats {key!r}")
        seen.add(key)
        return key


def parse(data: dict, source: str = "questionnaire") -> Questionnaire:
    """Check a questionnaire's decoded TOML and build it.

    Raises ``QuestionnaireError`` naming ``source`` and the first wrong entry.
    """
    check = _Checker(source)
    version = check.get(data, "version", "", str)
    if not version.strip():
        check.fail("version", "is empty")
    rating_options = _rating_options(check, data)
    questions, seen = [], set()
    raw_questions = check.get(data, "questions", "", list)
    if not raw_questions:
        check.fail("questions", "is empty")
    for i, raw in enumerate(raw_questions):
        questions.append(_question(check, raw, f"questions[{i}]", seen, rating_options))
    if questions[0].key != "overall" or questions[0].kind != "rating":
        check.fail("questions[0]", "must be the 'overall' rating: the welcome screen asks it")
    reasons = _reasons(check, data, {q.key for q in questions})
    threshold = check.get(data, "reasons_at_or_below", "", int, required=False, default=2)
    if threshold not in SCALE:
        check.fail("reasons_at_or_below", f"must be from 1 to 5, not {threshold}")
    return Questionnaire(
        version=version.strip(),
        title=check.text(data, "title", ""),
        privacy_purpose=check.text(data, "privacy_purpose", ""),
        reasons_at_or_below=threshold,
        questions=tuple(questions),
        reasons=tuple(reasons),
    )


def _rating_options(check: _Checker, data: dict) -> tuple:
    """The five rating options, labelled from the ``scale.labels`` table."""
    scale = check.get(data, "scale", "", dict)
    labels = {}
    for lang in LANGUAGES:
        names = check.get(check.get(scale, "labels", "scale", dict), lang, "scale.labels", list)
        if len(names) != len(SCALE) or not all(isinstance(n, str) and n.strip() for n in names):
            check.fail(f"scale.labels.{lang}", "must list 5 labels, from 1 (worst) to 5 (best)")
        labels[lang] = [unicodedata.normalize("NFC", n.strip()) for n in names]
    return tuple(
        Option(str(v), {lang: labels[lang][v - 1] for lang in LANGUAGES}) for v in SCALE
    )


def _question(check: _Checker, raw, where: str, seen: set, rating_options: tuple) -> Question:
    if not isinstance(raw, dict):
        check.fail(where, "must be a table")
    key = check.key(raw, where, seen)
    kind = check.get(raw, "kind", where, str)
    if kind not in KINDS:
        check.fail(f"{where}.kind", f"must be 'rating' or 'choice', not {kind!r}")
    if kind == "rating":
        options = rating_options
        if "not_applicable" in raw:  # e.g. "Not yet received" on timeliness
            options += (Option(NOT_APPLICABLE, check.text(raw, "not_applicable", where), extra=True),)
    else:
        options = _choice_options(check, raw, where)
    items = check.get(raw, "sipas_items", where, list, required=False, default=[])
    elements = check.get(raw, "elements", where, list, required=False, default=[])
    if not all(isinstance(e, int) and not isinstance(e, bool) and 1 <= e <= 5 for e in elements):
        check.fail(f"{where}.elements", "must list SIPAS element numbers from 1 to 5")
    text = check.text(raw, "text", where)
    short = check.text(raw, "short", where) if "short" in raw else text
    return Question(key, kind, text, options, tuple(str(x) for x in items), tuple(elements), short)


def _choice_options(check: _Checker, raw: dict, where: str) -> tuple:
    raw_options = check.get(raw, "options", where, list)
    if len(raw_options) < 2:
        check.fail(f"{where}.options", "must list at least 2 options")
    options, values = [], set()
    for j, opt in enumerate(raw_options):
        opt_where = f"{where}.options[{j}]"
        if not isinstance(opt, dict):
            check.fail(opt_where, "must be a table")
        value = check.get(opt, "value", opt_where, str)
        if not VALUE_PATTERN.match(value) or value in values:
            check.fail(f"{opt_where}.value",
                       f"must be a new short code of letters, digits or '+', not {value!r}")
        if value == NOT_APPLICABLE:
            check.fail(f"{opt_where}.value",
                       f"must not be {NOT_APPLICABLE!r}, kept for 'not applicable' answers")
        values.add(value)
        options.append(Option(value, check.text(opt, "text", opt_where)))
    return tuple(options)


def _reasons(check: _Checker, data: dict, question_keys: set) -> list:
    reasons, reason_keys = [], set()
    for i, raw in enumerate(check.get(data, "reasons", "", list, required=False, default=[])):
        where = f"reasons[{i}]"
        if not isinstance(raw, dict):
            check.fail(where, "must be a table")
        key = check.key(raw, where, reason_keys)
        tied = check.get(raw, "questions", where, list, required=False, default=[])
        unknown = [q for q in tied if q not in question_keys]
        if unknown:
            check.fail(f"{where}.questions", f"names unknown question {unknown[0]!r}")
        reasons.append(Reason(key, check.text(raw, "text", where), tuple(tied)))
    return reasons


def load(path: Path) -> Questionnaire:
    """Read and check a questionnaire file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuestionnaireError(f"{path}: the questionnaire file does not exist.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise QuestionnaireError(f"{path}: not valid TOML ({error}).") from None
    return parse(data, str(path))
