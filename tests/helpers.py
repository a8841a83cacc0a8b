"""Small helpers for the tests: driving the kiosk through Flask's test client, posting to central, logging in."""

import gzip
import json
import re
import time
import uuid
from urllib.parse import urlsplit

import requests
from click.testing import CliRunner
from sqlalchemy import func, select

from kiosk import drafts, store
from kiosk.clock import LOCAL_TZ, now_utc
from sync import wire
from sync.central.store import schema
from sync.central.cli import central

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
SURVEY = re.compile(r'name="survey" type="hidden" value="([^"]+)"')


def survey_id(html: str) -> str:
    """The survey id a screen's form carries."""
    return SURVEY.search(html).group(1)


class Citizen:
    """A browser session on the kiosk, posting forms with a real CSRF token."""

    def __init__(self, client):
        self.client = client
        self.token = CSRF.search(client.get("/").get_data(as_text=True)).group(1)

    def post(self, path, data=None, token=True):
        form = dict(data or {})
        if token:
            form.setdefault("csrf_token", self.token)
        return self.client.post(path, data=form)

    def answer(self, key, value):
        return self.post(f"/q/{key}", {"answer": value})

    def send(self, **fields):
        return self.post("/feedback", {"nav": "submit", **fields})

    def full_response(self, answers, **fields):
        for key, value in answers.items():
            assert self.answer(key, value).status_code == 302
        return self.send(**fields)


ANSWERS = {"overall": "4", "guidance": "5", "attitude": "2", "fairness": "3",
           "timeliness": "4", "extra_request": "no", "visits": "1"}


def respond_over_http(url, comment=None):
    """One citizen's full response (ANSWERS, and `comment` if given) to the kiosk at `url` over real HTTP;
    returns the thank-you page's HTML."""
    session = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      session.get(url + "/", timeout=5).text).group(1)
    for key, value in ANSWERS.items():
        session.post(f"{url}/q/{key}", data={"csrf_token": token, "answer": value},
                     allow_redirects=False, timeout=5).raise_for_status()
    form = {"csrf_token": token, "nav": "submit", **({"comment": comment} if comment is not None else {})}
    thanks = session.post(url + "/feedback", data=form, timeout=5)
    assert thanks.url.endswith("/thanks"), thanks.text
    return thanks.text


STORED_ANSWERS = {"overall": 4, "guidance": 5, "attitude": 2, "fairness": 3,
                  "timeliness": 4, "extra_request": "no", "visits": "1"}


def all_responses(db):
    return list(store.responses(db))


def counts(db):
    return db["responses"].count, db["drafts"].count


def add_responses(db_path, count, kiosk_id="test-kiosk", answers=None, now=None, flagged=False, **private):
    """Append `count` real chained responses to a kiosk database (made if missing).

    They are made at machine speed; unless `flagged`, the anti-abuse flags are not applied.
    """
    from kiosk.clock import now_utc
    from kiosk.flags import FlagPolicy

    UNFLAGGED = FlagPolicy(min_seconds=0, burst_limit=10**9)  # made at machine speed, yet ordinary
    store.init(db_path, kiosk_id)
    db = store.connect(db_path)
    try:
        for _ in range(count):
            moment = now or now_utc()
            draft = drafts.start_draft(db, "2025.1", moment)
            for key, value in (answers or STORED_ANSWERS).items():
                drafts.save_answer(db, draft, key, value, moment)
            drafts.finish_draft(db, draft, complete=True, now=moment,
                               policy=FlagPolicy() if flagged else UNFLAGGED, **private)
    finally:
        db.close()


def spoil_rows(db_path, *seqs):
    """Give responses ``seqs`` of a kiosk database an empty questionnaire version (past the store's
    no-update guard): rows central cannot read, which it names in a 400."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER responses_no_update")
    conn.execute(f"UPDATE responses SET questionnaire_version = '' WHERE seq IN ({', '.join('?' * len(seqs))})",
                 seqs)
    conn.commit()
    conn.close()


def wire_responses(db_path, limit=100_000):
    from kiosk import outbox
    db = store.connect(db_path)
    try:
        return outbox.pending(db, limit)
    finally:
        db.close()


def send_to_live(central, db_path, kiosk_id="test-kiosk", chunk=400):
    """Post every response of a kiosk database to a live central (conftest.LiveCentral) in signed batches
    of `chunk`; the summed answer counts ({"accepted": n, "duplicate": n, ...})."""
    rows, totals = wire_responses(db_path), {}
    for start in range(0, len(rows), chunk):
        body = json.dumps(wire.batch(kiosk_id, rows[start:start + chunk])).encode()
        stamp = str(int(time.time()))
        reply = requests.post(central.url + "/api/v1/batches", data=body, timeout=60, headers={
            "Content-Type": "application/json", wire.KIOSK_HEADER: kiosk_id, wire.TIMESTAMP_HEADER: stamp,
            wire.SIGNATURE_HEADER: wire.sign(central.secret, stamp, body)})
        assert reply.ok, reply.text
        for key, value in reply.json().items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return totals


def commented_rows(db_path, count):
    """`count` responses with a comment and a phone number, stored in a new kiosk database, as the wire sends them."""
    add_responses(db_path, count, comment="Rất tốt", phone="0912345678")
    return wire_responses(db_path)


#: Share of responses that rate every question 4 or 5 in the "typical" mix of ``bulk_responses``.
TYPICAL_SATISFIED = 0.9


def bulk_responses(db_path, count, kiosk_id="test-kiosk", seed=7, mix="uniform"):
    """`count` chained responses as a kiosk would have written them, in one fast transaction.

    For volume (benchmarks, big batches); other tests use the store's own path (`add_responses`).
    UUIDs and answers come from `seed`: give each kiosk of one test its own. ``mix``: "uniform" rates each
    question 1-5 alike (87% of responses then have a rating of 1-2 and open a case); "typical" gives
    ``TYPICAL_SATISFIED`` of responses only 4s and 5s and the rest the uniform draw (about 9% open a case).
    """
    import random
    import sqlite3
    import uuid
    from datetime import timedelta

    from kiosk import chain
    from kiosk.clock import now_utc, utc_iso

    store.init(db_path, kiosk_id)
    rng, prev, start = random.Random(seed), chain.GENESIS_HASH, now_utc() - timedelta(days=3)
    rows = []
    for seq in range(1, count + 1):
        moment = utc_iso(start + timedelta(seconds=seq))
        low = 4 if mix == "typical" and rng.random() < TYPICAL_SATISFIED else 1
        record = {"seq": seq, "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "kiosk_id": kiosk_id,
                  "started_utc": moment, "created_utc": moment, "utc_offset_minutes": 420,
                  "questionnaire_version": "2025.1", "counter": "3", "officer": "Nguyễn Văn An",
                  "dossier_code": None,
                  "answers": {k: rng.randint(low, 5) for k in ("overall", "guidance", "attitude", "fairness")}
                  | {"extra_request": "no", "visits": "1"},
                  "reasons": [], "complete": 1, "flags": [], "comment_hash": None, "contact_hash": None,
                  "prev_hash": prev}
        record["hash"] = prev = chain.record_hash(record)
        rows.append(tuple(store.dumps(v) if k in store.JSON_COLUMNS else v for k, v in record.items()))
    columns = list(record)
    conn = sqlite3.connect(db_path)
    conn.executemany(f"INSERT INTO responses ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
    conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('chain_head', ?)", [f"{count} {prev}"])
    conn.commit()
    conn.close()


def settled(page):
    """Wait until the screen takes taps (the script's settle time has passed); call it with JavaScript on.

    A locator, not ``wait_for_function``: the kiosk's CSP forbids the eval that the latter needs.
    """
    page.locator('body[data-settled="true"]').wait_for(state="attached", timeout=10_000)


# Central: a signed batch posted in-process, the staff pages' login, the `central` command.

STAFF_PASSWORD = "mật-khẩu-đủ-dài"
#: The unit of the kiosk "test-kiosk" the central tests register.
UNIT = "Sở Xây dựng"

#: The ``site`` fixture's roster: officer name -> (roster id, unit).
SITE_OFFICERS = {"An": ("cb-an", "Unit A"), "Bình": ("cb-binh", "Unit A"), "Chi": ("cb-chi", "Unit B")}


def map_officer_names(engine):
    """Give stored responses without an officer id the id of the one active roster officer of their unit
    with their officer's name (``central officer match --apply``); returns the names mapped."""
    from sync.central.store import roster_match
    return [row["name"] for row in roster_match.match(engine, apply=True)["mapped"]]


def add_officer_login(engine, login, unit, name, officer_id, password=STAFF_PASSWORD):
    """An officer of `unit` in the roster (the unit added first if new) and their login linked to it."""
    from sync.central.store import accounts, roster
    with engine.connect() as conn:
        if roster.get_unit(conn, unit) is None:
            roster.add_unit(engine, unit, unit)
    roster.add_officer(engine, unit, name, officer_id)
    accounts.add_user(engine, login, "officer", unit, password, officer_id=officer_id)


def on_duty(responses, officer_id=None, counter_id=None):
    """Wire responses as a kiosk with the roster (issue 13) sends them: each with the ids of the officer
    and counter on duty (one for all, or a list with one per response), re-chained (``kiosk.chain``) as
    that kiosk would have hashed them."""
    from kiosk import chain
    officer_ids = officer_id if isinstance(officer_id, list) else [officer_id] * len(responses)
    made, previous = [], None
    for response, officer in zip(responses, officer_ids, strict=True):
        response = {**response, "officer_id": officer, "counter_id": counter_id}
        if previous is not None:
            response["prev_hash"] = previous
        response["hash"] = previous = chain.record_hash(response)
        made.append(response)
    return made


def post(client, secret, payload=None, *, body=None, kiosk="test-kiosk", timestamp=None,
         compress=False, headers=None, path="/api/v1/batches"):
    """POST `payload` (or the bytes `body`) to central's `path` signed as `kiosk` with `secret`."""
    if body is None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if compress:
        body = gzip.compress(body)
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    sent = {"Content-Type": "application/json", wire.KIOSK_HEADER: kiosk, wire.TIMESTAMP_HEADER: timestamp,
            wire.SIGNATURE_HEADER: wire.sign(secret, timestamp, body)}
    if compress:
        sent["Content-Encoding"] = "gzip"
    sent.update(headers or {})
    return client.post(path, data=body, headers=sent)


def config_request(client, secret, health=None, *, nonce=None, kiosk="test-kiosk", body=None):
    """POST a configuration request ``{"nonce", "health"}`` signed as `kiosk`; the reply has ``.nonce``."""
    nonce = nonce or str(uuid.uuid4())
    reply = post(client, secret, {"nonce": nonce, "health": health}, body=body, kiosk=kiosk,
                 path="/api/v1/kiosk-config")
    reply.nonce = nonce
    return reply


def config_request_live(base_url, kiosk, secret, health, nonce=None):
    """POST a signed configuration request to a running central at `base_url`; the `requests` reply."""
    body = json.dumps({"nonce": nonce or str(uuid.uuid4()), "health": health}).encode("utf-8")
    stamp = str(int(time.time()))
    return requests.post(base_url + "/api/v1/kiosk-config", data=body, timeout=30, headers={
        "Content-Type": "application/json", wire.KIOSK_HEADER: kiosk, wire.TIMESTAMP_HEADER: stamp,
        wire.SIGNATURE_HEADER: wire.sign(secret, stamp, body)})


def central_rows(central_url):
    """(responses stored, distinct UUIDs among them) in the central store at `central_url` (a live central's)."""
    from sync.central.store import database
    engine = database.engine_for(central_url)
    try:
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(schema.responses)).scalar()
            distinct = conn.execute(select(func.count(func.distinct(schema.responses.c.uuid)))).scalar()
        return total, distinct
    finally:
        engine.dispose()


def watched_session():
    """A ``requests.Session`` that notes each batch posted through it, as it went over the wire:
    ``(responses in the batch, HTTP status, the answer's max_responses or None)``; returns
    ``(session, the list it fills)``."""
    seen = []

    def note(reply, *args, **kwargs):
        if not reply.request.url.endswith("/api/v1/batches"):
            return
        body = reply.request.body
        if reply.request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        try:
            answer = reply.json()
        except ValueError:
            answer = {}
        seen.append((len(json.loads(body)["responses"]), reply.status_code,
                     answer.get("max_responses") if isinstance(answer, dict) else None))

    session = requests.Session()
    session.hooks["response"].append(note)
    return session, seen


def stored_counts(engine):
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar()
                     for t in (schema.responses, schema.response_private, schema.quarantine, schema.integrity_events))


def assert_error(reply, status, fragment):
    """Every JSON error has one shape: {ok: false, error, errors, status}."""
    assert reply.status_code == status, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["errors"], list) and body["error"] == "; ".join(body["errors"])
    assert fragment in body["error"]


def csrf(client, path="/login"):
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', client.get(path).get_data(as_text=True))[1]


def log_in(client, name, password=STAFF_PASSWORD):
    return client.post("/login", data={"csrf_token": csrf(client), "name": name, "password": password})


def today():
    return now_utc().astimezone(LOCAL_TZ).date().isoformat()


def invoke(args, env):
    return CliRunner().invoke(central, args, env=env, catch_exceptions=False)


# The kiosk in a real browser (Playwright), as a citizen taps it on a 10-inch tablet.

PORTRAIT = {"width": 800, "height": 1280}


class Tablet:
    """One browser context on the kiosk, recording every request the page makes."""

    def __init__(self, browser, kiosk, *, js=True, viewport=PORTRAIT):
        self.kiosk, self.js = kiosk, js
        self.context = browser.new_context(viewport=viewport, java_script_enabled=js,
                                           has_touch=True, locale="vi-VN")
        self.page = self.context.new_page()
        self.requested = []
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.taps = 0

    def open(self, path="/"):
        self.page.goto(self.kiosk.url + path)
        return self

    def tap(self, name, role="button"):
        if self.js:
            settled(self.page)
        target = self.page.get_by_role(role, name=name, exact=True)
        if role == "checkbox":
            target.tap()
        else:
            with self.page.expect_navigation():
                target.tap()
        self.taps += 1

    def shot(self, folder, name):
        self.page.screenshot(path=str(folder / f"{name}.png"))

    def foreign_requests(self):
        own = urlsplit(self.kiosk.url).netloc
        return [url for url in self.requested if urlsplit(url).netloc != own]

    def close(self):
        self.context.close()


def stored(kiosk):
    db = store.connect(kiosk.db_path)
    try:
        return list(store.responses(db))
    finally:
        db.close()


VI_FLOW = [  # (screen name, what the citizen taps)
    ("01-welcome", "Hài lòng"),
    ("02-guidance", "Rất hài lòng"),
    ("03-attitude", "Không hài lòng"),
    ("04-fairness", "Bình thường"),
    ("05-timeliness", "Hài lòng"),
    ("06-extra-request", "Không"),
    ("07-visits", "1 lần"),
]


# Issue 13: the configuration central sends a kiosk, as its answer carries it.

def questionnaire_source(version="2026.9", overall_vi=None):
    """The packaged questionnaire's TOML with another `version` (and, given, another welcome question)."""
    from kiosk.settings import DEFAULT_QUESTIONNAIRE
    source = DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8").replace('version = "2026.1"', f'version = "{version}"')
    if overall_vi:
        source = source.replace("Ông/Bà hài lòng thế nào với việc giải quyết thủ tục hôm nay?", overall_vi, 1)
    return source


def config_answer(nonce=None, **fields):
    """A configuration answer as central's contract gives it; `fields` replace the defaults
    (counters Q1, Q2; officers cb-hung, cb-lan; no questionnaire; no settings)."""
    import hashlib
    content = {"unit": {"code": UNIT, "name": "Bộ phận Một cửa – Sở Xây dựng"},
               "counters": [{"id": "Q1", "name": "Quầy 1"}, {"id": "Q2", "name": "Quầy 2"}],
               "officers": [{"id": "cb-hung", "name": "Nguyễn Văn Hùng"}, {"id": "cb-lan", "name": "Trần Thị Lan"}],
               "questionnaire": None, "settings": {}}
    content.update(fields)
    version = hashlib.sha256(wire.canonical_json(content).encode("utf-8")).hexdigest()
    return {"nonce": nonce, "config_version": version, **content}


# Issue 13 end to end: the kiosk's staff mode and central's pages over real HTTP.

STAFF_CHOICE = r'<input type="radio" name="{kind}_id" value="([^"]+)"[^>]*> ([^<]+)</label>'


def staff_over_http(url, pin="2468"):
    """A `requests` session in the staff mode of the kiosk running at `url` (PIN `pin`)."""
    session = requests.Session()
    token = CSRF.search(session.get(url + "/staff/", timeout=10).text).group(1)
    entered = session.post(url + "/staff/", data={"csrf_token": token, "pin": pin}, allow_redirects=False, timeout=10)
    assert entered.headers.get("Location") == "/staff/home", entered.text
    session.csrf = token
    return session


def staff_choices(session, url, kind):
    """What staff mode at `url` offers to pick for `kind` ("counter" or "officer"): {roster id: name}."""
    page = session.get(url + "/staff/home", timeout=10).text
    return {value: name.strip() for value, name in re.findall(STAFF_CHOICE.format(kind=kind), page)}


def pick_over_http(session, url, counter_id, officer_id):
    """Put `counter_id` and `officer_id` on duty in staff mode; returns staff mode's page after saving."""
    saved = session.post(url + "/staff/pick", data={"csrf_token": session.csrf, "counter_id": counter_id,
                                                    "officer_id": officer_id}, timeout=10)
    assert saved.url.endswith("/staff/home") and saved.status_code == 200, saved.text
    return saved.text


def central_over_http(url, login, password=STAFF_PASSWORD):
    """A `requests` session logged in to the central running at `url` as `login`."""
    session = requests.Session()
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', session.get(url + "/login", timeout=10).text)[1]
    done = session.post(url + "/login", data={"csrf_token": token, "name": login, "password": password},
                        allow_redirects=False, timeout=10)
    assert done.status_code == 302 and done.headers["Location"] == "/", done.text
    return session


def staff_log_in(page, base_url: str, name: str, password: str):
    """Sign in to central's staff pages in a Playwright `page` (Vietnamese labels), waiting for the next page."""
    page.goto(base_url + "/login")
    page.get_by_label("Tên").fill(name)
    page.get_by_label("Mật khẩu").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()


def tell_in_writing_satisfied_and_close(page):
    """On a case page in a Playwright `page` (Vietnamese): record that the citizen was told in writing just now
    and was satisfied, then close the case, waiting for each page."""
    from datetime import datetime

    from kiosk.clock import LOCAL_TZ
    page.get_by_role("radio", name="bằng văn bản").check()
    page.get_by_label("Thời điểm", exact=True).fill(datetime.now(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("radio", name="hài lòng", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Ghi nhận việc thông báo").click()
    page.get_by_label("Đóng phản ánh").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu", exact=True).click()
