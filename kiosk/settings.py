"""Every setting of the three programs (kiosk, kiosk-sync, central) in one registry.

A setting is an environment variable. Its entry in ``REGISTRY`` gives its name,
its kind (what a value must look like), its default, its help, the programs that
read it and the config field it fills. The entry drives everything said about
the setting: the ``--help`` of each program (``help_text``), the one sentence
naming the variable when it is missing or wrong (``SettingError``), the loading
into the config dataclasses (``values``), and the README's settings tables
(``markdown_table``, written by ``scripts/settings_table.py``; tests/test_settings.py
fails when README, ``--help`` and this registry differ).

Adding a setting is one entry in ``REGISTRY`` (plus a field in the program's
config dataclass, when it has ``field``), then ``python scripts/settings_table.py``.

Standard library only: the uploader and central import it beside the kiosk.
"""

import ipaddress
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .paths import PACKAGE_DIR

KIOSK, SYNC, CENTRAL = "kiosk", "kiosk-sync", "central"
PROGRAMS = (KIOSK, SYNC, CENTRAL)
DEFAULT_QUESTIONNAIRE = PACKAGE_DIR / "questionnaire.toml"
KIOSK_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
HELP_WIDTH = 100  # characters per line of a program's settings help


class SettingError(Exception):
    """A setting is missing or wrong; the message is one sentence naming the variable."""


class Invalid(ValueError):
    """Raised by a kind's ``parse``; ``shown`` is the part of the value the error sentence quotes."""

    def __init__(self, shown):
        super().__init__(shown)
        self.shown = shown


# --- kinds: what a value must look like ----------------------------------------------------


@dataclass(frozen=True)
class Whole:
    """A whole number from `low` to `high` inclusive."""

    low: int
    high: int
    echo = True

    def parse(self, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise Invalid(raw) from None
        if not self.low <= value <= self.high:
            raise Invalid(raw)
        return value

    def rule(self, setting) -> str:
        return f"must be a whole number from {self.low} to {self.high} ({setting.help})"

    def word(self) -> str:
        return f"whole number, {self.low}–{self.high}"


@dataclass(frozen=True)
class Flag:
    """``true`` or ``false`` (any case)."""

    echo = True

    def parse(self, raw: str) -> bool:
        value = raw.lower()
        if value not in ("true", "false"):
            raise Invalid(value)
        return value == "true"

    def rule(self, setting) -> str:
        return "must be true or false"

    def word(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class FilePath:
    """A file system path (not checked here: the program that opens it says what is wrong)."""

    echo = True

    def parse(self, raw: str) -> Path:
        return Path(raw)

    def rule(self, setting) -> str:
        return "must be a path"

    def word(self) -> str:
        return "path"


@dataclass(frozen=True)
class Pattern:
    """Text matching `pattern`; `rule` completes "NAME …" in the error sentence; `echo` quotes the value."""

    pattern: str
    text_rule: str
    what: str
    echo: bool = True

    def parse(self, raw: str) -> str:
        if not re.match(self.pattern, raw):
            raise Invalid(raw)
        return raw

    def rule(self, setting) -> str:
        return self.text_rule

    def word(self) -> str:
        return self.what


@dataclass(frozen=True)
class Networks:
    """Comma-separated IP addresses or networks, as a tuple of ``ipaddress`` networks."""

    echo = True

    def parse(self, raw: str) -> tuple:
        networks = []
        for part in (p.strip() for p in raw.split(",")):
            if part:
                try:
                    networks.append(ipaddress.ip_network(part, strict=False))
                except ValueError:
                    raise Invalid(part) from None
        return tuple(networks)

    def rule(self, setting) -> str:
        return "must be comma-separated IP addresses or networks (e.g. 127.0.0.1,10.0.0.0/8)"

    def word(self) -> str:
        return "IP addresses or networks, comma-separated"


@dataclass(frozen=True)
class Pairs:
    """Comma-separated ``key=days`` pairs, each key one of `keys` at most once, days from `low` to `high`;
    read as a sorted tuple of (key, days)."""

    keys: tuple
    low: int
    high: int
    echo = True

    def parse(self, raw: str) -> tuple:
        found = {}
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            key, _, value = (s.strip() for s in part.partition("="))
            if key not in self.keys or key in found or not value.isdigit() \
                    or not self.low <= int(value) <= self.high:
                raise Invalid(part)
            found[key] = int(value)
        return tuple(sorted(found.items()))

    def rule(self, setting) -> str:
        return (f"must be comma-separated category=days pairs, each category ({', '.join(self.keys)}) once, "
                f"days a whole number from {self.low} to {self.high} (e.g. officers=5,procedures=15)")

    def word(self) -> str:
        return "category=days, comma-separated"


# --- a setting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One environment variable.

    `default` is the value when the variable is unset or blank (None: unset);
    `required` ones stop the program instead, with `missing` ("give …, e.g. …")
    after "NAME is not set: ". `field` is the config dataclass field it fills,
    if any. `doc` is the README's longer meaning (`help` when empty), `shown`
    the default as the docs say it (derived from `default` when empty). `central`
    marks a kiosk setting central may override through the configuration exchange
    (``central kiosk-settings set``; the kiosk applies it from its last good configuration).
    """

    name: str
    kind: object
    help: str
    programs: tuple
    default: object = None
    required: bool = False
    field: str = ""
    missing: str = ""
    doc: str = ""
    shown: str = ""
    central: bool = False

    def read(self, environ, required=None):
        """The value from `environ` (a mapping), or the default; ``SettingError`` naming the variable."""
        raw = environ.get(self.name, "").strip()
        if not raw:
            if self.required if required is None else required:
                raise SettingError(f"{self.name} is not set: {self.missing}." if self.missing
                                   else self.invalid(""))
            return self.default
        try:
            return self.kind.parse(raw)
        except Invalid as bad:
            raise SettingError(self.invalid(bad.shown)) from None

    def invalid(self, shown) -> str:
        """The sentence for a wrong value (`shown` is quoted when the kind echoes values)."""
        return f"{self.name} {self.kind.rule(self)}" + (f", not {shown!r}" if self.kind.echo else "") + "."

    def default_text(self) -> str:
        if self.required:
            return "required"
        if self.shown:
            return self.shown
        if self.default is None or self.default == ():
            return "unset"
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default)


def whole(name, default, low, high, help, programs, field="", doc="", central=False):
    """An integer setting with bounds (the common case, kept to one line per entry)."""
    return Setting(name, Whole(low, high), help, programs, default, field=field, doc=doc, central=central)


def _serving(prefix, program):
    return (
        whole(f"{prefix}_CONNECTION_LIMIT", 500, 10, 10_000,
              "open connections accepted at once (keep under `ulimit -n`)", (program,)),
        whole(f"{prefix}_CHANNEL_TIMEOUT", 30, 5, 3600, "seconds a silent connection stays open", (program,)),
    )


# --- the registry ------------------------------------------------------------------------

_KIOSK_ID_RULE = "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"

REGISTRY = (
    # read by the kiosk (and, for the first two, its uploader)
    Setting("KIOSK_DB", FilePath(), "path of the kiosk's SQLite file", (KIOSK, SYNC), required=True,
            field="db_path", missing="give the path of the kiosk's SQLite file, e.g. KIOSK_DB=/var/lib/kiosk/kiosk.db"),
    Setting("KIOSK_ID", Pattern(KIOSK_ID_PATTERN.pattern, _KIOSK_ID_RULE, "letters, digits, `.`, `_`, `-`"),
            "this kiosk's id, e.g. mc-quay-01", (KIOSK, SYNC), required=True, field="kiosk_id",
            doc="this kiosk's id (letters, digits, `.`, `_`, `-`), e.g. `mc-quay-01`",
            missing="give this kiosk's id, e.g. KIOSK_ID=mc-quay-01"),
    Setting("KIOSK_QUESTIONNAIRE", FilePath(), "questionnaire TOML file", (KIOSK,), DEFAULT_QUESTIONNAIRE,
            field="questionnaire_path", shown="the packaged `kiosk/questionnaire.toml`"),
    whole("KIOSK_IDLE_SECONDS", 30, 3, 3600, "seconds without a tap before the survey returns to the welcome screen",
          (KIOSK,), "idle_seconds", doc="no tap for this long: back to the welcome screen, answers kept as "
          "incomplete (the last 10 s are counted down on screen; 4× as long on the last screen)", central=True),
    whole("KIOSK_SETTLE_MS", 800, 0, 5000,
          "milliseconds a new screen ignores taps, so a double tap never answers a screen unseen", (KIOSK,),
          "settle_ms", doc="a new screen ignores taps this long (ms), so a double tap never answers a screen not "
          "yet seen", central=True),
    whole("KIOSK_MIN_SECONDS", 2, 0, 120, "a complete response faster than this is flagged too_fast", (KIOSK,),
          "min_seconds", doc="a complete response faster than this (s) is flagged `too_fast`", central=True),
    whole("KIOSK_BURST_LIMIT", 5, 1, 1000,
          "more identical responses than this within KIOSK_BURST_WINDOW are flagged burst", (KIOSK,), "burst_limit",
          doc="more *identical* responses than this within `KIOSK_BURST_WINDOW` are flagged `burst` (see below)",
          central=True),
    whole("KIOSK_BURST_WINDOW", 120, 1, 86400, "the burst window, in seconds", (KIOSK,), "burst_window",
          central=True),
    whole("KIOSK_CONTACT_DAYS", 90, 1, 3650,
          "days after which a phone number is erased on the kiosk (`kiosk run` checks hourly)", (KIOSK,),
          "contact_days"),
    Setting("KIOSK_ALLOWED_CLIENTS", Networks(), "comma-separated addresses or networks whose browsers may use the "
            "survey and staff mode; others get 403", (KIOSK,), Networks().parse("127.0.0.1,::1"),
            field="allowed_clients", shown="127.0.0.1,::1 (this machine only)",
            doc="comma-separated addresses or networks whose browsers may use the survey and staff mode (a tablet "
            "on the counter's LAN, e.g. `192.168.1.20`); any other address gets a 403 page and nothing is written"),
    *_serving("KIOSK", KIOSK),
    # read by the uploader, kiosk-sync
    Setting("KIOSK_SECRET", Pattern(r"[0-9a-f]{64}\Z", "must be the 64-hex-digit secret that `central add-kiosk` "
                                    "printed", "64 hex digits", echo=False),
            "the secret `central add-kiosk` printed", (SYNC,), required=True, field="secret"),
    Setting("CENTRAL_URL", Pattern(r"^https?://[^/\s]+", "must be central's address, e.g. "
                                   "CENTRAL_URL=http://10.0.0.5:8000", "URL", echo=False),
            "central's address, e.g. http://10.0.0.5:8000", (SYNC,), required=True, field="url",
            doc="central's address, e.g. `http://10.0.0.5:8000`"),
    whole("KIOSK_SYNC_BATCH", 5000, 1, 100_000, "responses per batch, at most central's CENTRAL_MAX_BATCH", (SYNC,),
          "batch_size", doc="responses per batch, at most central's `CENTRAL_MAX_BATCH`; when central refuses a batch "
          "as too large (413) the uploader sends smaller ones instead of stopping; a round's first batch has at "
          "most 1,000"),
    whole("KIOSK_SYNC_BACKOFF_CAP", 300, 1, 3600, "longest wait between retries, in seconds", (SYNC,), "backoff_cap"),
    # read by central
    Setting("CENTRAL_DB", FilePath(), "path of central's SQLite file (the default store)", (CENTRAL,),
            missing="give the path of central's SQLite file, e.g. CENTRAL_DB=/var/lib/sipas/central.db, or set "
            "DATABASE_URL for PostgreSQL", doc="central's SQLite file (the default store)",
            shown="required unless `DATABASE_URL`"),
    Setting("DATABASE_URL", Pattern(r"(postgresql|postgres|postgresql\+psycopg)://", "must start with postgresql://, "
                                    "e.g. DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sipas",
                                    "URL", echo=False),
            "postgresql://user@host:port/db to store in PostgreSQL instead", (CENTRAL,),
            doc="`postgresql://…` to store in PostgreSQL instead"),
    whole("CENTRAL_MAX_BODY_BYTES", 5_000_000, 1_000, 100_000_000,
          "largest request body accepted, in bytes (413 beyond)", (CENTRAL,), "max_body_bytes",
          doc="larger request bodies (bytes) get 413"),
    whole("CENTRAL_MAX_BATCH", 5000, 1, 100_000, "most responses accepted in one batch", (CENTRAL,), "max_batch",
          doc="more responses in one batch get 413"),
    whole("CENTRAL_REPLAY_SECONDS", 300, 10, 86_400,
          "a signed request whose timestamp is further off than this is refused as a replay", (CENTRAL,),
          "replay_seconds"),
    Setting("CENTRAL_QUESTIONNAIRE", FilePath(), "the questionnaire whose SIPAS mapping the figures use", (CENTRAL,),
            DEFAULT_QUESTIONNAIRE, field="questionnaire_path", shown="the packaged one"),
    Setting("CENTRAL_HTTPS", Flag(), "true when served over HTTPS: Secure session cookies and HSTS", (CENTRAL,),
            False, field="https", doc="`true` when served over HTTPS: Secure session cookies and HSTS"),
    whole("CENTRAL_CASE_DAYS", 5, 1, 60, "working days before an open kiosk case is overdue", (CENTRAL,),
          "case_days", doc="working days before an open kiosk case is overdue (Mon–Fri less Vietnam's public "
          "holidays and the department's swaps)"),
    Setting("CENTRAL_PAKN_DAYS", Pairs(("access", "procedures", "officers", "results", "feedback"), 1, 60),
            "working days to handle a PAKN of another channel, per category, e.g. officers=5,procedures=15 "
            "(unnamed categories: 10, after NĐ 20/2008/NĐ-CP as amended, unconfirmed)", (CENTRAL,), (),
            field="pakn_days", shown="10 for each category"),
    Setting("CENTRAL_WORKDAY_SWAPS", FilePath(), "the department's file of decreed day swaps, one "
            "'YYYY-MM-DD off|work [note]' a line (Vietnam's public holidays are always counted)", (CENTRAL,),
            doc="the department's file of decreed day swaps (see \"Working days\" below)", shown="none"),
    *_serving("CENTRAL", CENTRAL),
    whole("CENTRAL_CONTACT_DAYS", 90, 1, 3650,
          "days after a case closes, or a response is quarantined, before `central erase-contact --expired` "
          "erases its phone number", (CENTRAL,), "contact_days"),
    whole("CENTRAL_TARGET_PCT", 90, 1, 100, "a unit's target share satisfied overall, in percent, unless "
          "`central set-target` gave it another", (CENTRAL,), "target_pct"),
    whole("CENTRAL_MIN_RESPONSES", 10, 1, 10_000, "an officer or counter with fewer responses on the day is marked "
          "'too few responses'", (CENTRAL,), "min_responses"),
    whole("CENTRAL_ALERT_PCT", 50, 1, 100, "alert a unit's supervisors when at least this share of recent overall "
          "ratings is 1 or 2", (CENTRAL,)),
    whole("CENTRAL_ALERT_MINUTES", 15, 1, 1440, "the recent window of the low-ratings alert, in minutes", (CENTRAL,)),
    whole("CENTRAL_ALERT_MIN_RATINGS", 4, 1, 10_000, "the low-ratings alert needs at least this many overall ratings "
          "in the window", (CENTRAL,)),
    Setting("CENTRAL_SMTP_HOST", Pattern(r"[^\s/]+\Z", "must be the SMTP server's host name or address", "host name"),
            "the SMTP server alert emails go through (unset: no email is sent; alerts still show on the summary)",
            (CENTRAL,), shown="none"),
    whole("CENTRAL_SMTP_PORT", 587, 1, 65535, "the SMTP server's port for alert emails", (CENTRAL,)),
    Setting("CENTRAL_SMTP_FROM", Pattern(r"[^@\s]+@[^@\s]+\Z", "must be an email address, e.g. "
                                         "sipas@example.gov.vn", "email address"),
            "the alert emails' sender address (required with CENTRAL_SMTP_HOST)", (CENTRAL,)),
    Setting("CENTRAL_SMTP_USER", Pattern(r"\S+\Z", "must be the SMTP login name, without spaces", "text"),
            "the SMTP login, if the server needs one", (CENTRAL,)),
    Setting("CENTRAL_SMTP_PASSWORD", Pattern(r".+", "must be the SMTP password", "text", echo=False),
            "the SMTP password, if the server needs one", (CENTRAL,)),
    Setting("CENTRAL_SMTP_TLS", Pattern(r"(starttls|ssl|none)\Z", "must be starttls, ssl or none",
                                        "starttls, ssl or none"),
            "how alert emails are encrypted on the way to the SMTP server", (CENTRAL,), "starttls"),
    Setting("CENTRAL_TRUSTED_PROXIES", Networks(), "comma-separated addresses or networks of the reverse proxies "
            "whose X-Forwarded-For names the client, e.g. 127.0.0.1", (CENTRAL,), (), field="trusted_proxies",
            doc="comma-separated addresses or networks of the reverse proxies in front of central, e.g. "
            "`127.0.0.1`; only requests *from* these have their `X-Forwarded-For` believed (see \"Login limits\")",
            shown="none"),
    # read by every program
    Setting("KIOSK_TEST_CLOCK_OFFSET_FILE", FilePath(),
            "tests only: a file holding seconds added to the clock, read at every use", (KIOSK, SYNC, CENTRAL),
            doc="**tests only**: a file holding seconds added to the kiosk's clock, read at every use (sets a "
            "running kiosk or uploader wrong, then right)"),
)

SETTINGS = {setting.name: setting for setting in REGISTRY}


def get(name: str) -> Setting:
    """The registered setting called `name`; KeyError when there is none."""
    return SETTINGS[name]


def centrally_settable() -> tuple:
    """The kiosk settings central may override (``Setting.central``), in registry order."""
    return tuple(setting for setting in REGISTRY if setting.central)


def of(program: str) -> tuple:
    """The settings `program` (one of ``PROGRAMS``) reads, in registry order."""
    return tuple(setting for setting in REGISTRY if program in setting.programs)


def values(program: str, environ) -> dict:
    """{config field: value} of every setting of `program` that fills a field, read from `environ`.

    Raises ``SettingError`` (one sentence naming the variable) for the first missing or wrong one.
    """
    return {setting.field: setting.read(environ) for setting in of(program) if setting.field}


def help_text(program: str) -> str:
    """The "Settings" part of `program`'s ``--help``: one line per setting, in click's no-rewrap block."""
    width = max(len(setting.name) for setting in of(program)) + 4
    lines = []
    for s in of(program):
        default = _default_words(s.default_text()).replace(" ", "\xa0")  # never split across lines
        wrapped = [line.replace("\xa0", " ") for line in textwrap.wrap(f"{s.help} ({default})", HELP_WIDTH - width)]
        lines += [f"  {s.name:<{width - 2}}{wrapped[0]}", *(" " * width + line for line in wrapped[1:])]
    return "Settings (environment variables):\n\n\b\n" + "\n".join(lines)


def _default_words(text):
    return text.replace("`", "") if text.startswith("required") else f"default: {text.replace('`', '')}"


def markdown_table(programs) -> str:
    """The README's table of the settings whose first program is in `programs` (variable, meaning, kind,
    default, read by), as Markdown lines without a trailing newline."""
    rows = ["| variable | meaning | kind | default | read by |", "|---|---|---|---|---|"]
    for s in REGISTRY:
        if s.programs[0] in programs:
            meaning = (s.doc or s.help) + ("; central may override it (`central kiosk-settings set`)" if s.central
                                            else "")
            rows.append(f"| `{s.name}` | {meaning} | {s.kind.word()} | {s.default_text()} | "
                        f"{', '.join(f'`{p}`' for p in s.programs)} |")
    return "\n".join(rows)


#: A generated table in the README: ``<!-- settings: kiosk -->`` … ``<!-- /settings -->``.
README_TABLE = re.compile(r"(<!-- settings: ([a-z -]+?) -->\n)(.*?)(<!-- /settings -->)", re.S)


def with_tables(readme: str) -> str:
    """`readme` with each marked table replaced by ``markdown_table`` of the programs its marker names."""
    return README_TABLE.sub(lambda m: m[1] + markdown_table(m[2].split()) + "\n" + m[4], readme)
