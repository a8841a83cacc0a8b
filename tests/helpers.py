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
