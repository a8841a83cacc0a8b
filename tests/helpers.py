"""Small helpers for driving the kiosk through Flask's test client."""

import re

from kiosk import store

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


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
STORED_ANSWERS = {"overall": 4, "guidance": 5, "attitude": 2, "fairness": 3,
                  "timeliness": 4, "extra_request": "no", "visits": "1"}


def all_responses(db):
    return list(store.responses(db))


def counts(db):
    return db["responses"].count, db["drafts"].count


def add_responses(db_path, count, kiosk_id="test-kiosk", answers=None, now=None, **private):
    """Append `count` real chained responses to a kiosk database (made if missing)."""
    from kiosk.clock import now_utc
    from kiosk.flags import FlagPolicy

    store.init(db_path, kiosk_id)
    db = store.connect(db_path)
    try:
        for _ in range(count):
            moment = now or now_utc()
            draft = store.start_draft(db, "2025.1", moment)
            for key, value in (answers or STORED_ANSWERS).items():
                store.save_answer(db, draft, key, value, moment)
            store.finish_draft(db, draft, complete=True, now=moment, policy=FlagPolicy(), **private)
    finally:
        db.close()


def wire_responses(db_path, limit=100_000):
    from sync import outbox
    db = store.connect(db_path)
    try:
        return outbox.pending(db, limit)
    finally:
        db.close()
