"""A response survives the kiosk process being killed right after the thank-you page."""

import re
import signal

import requests

from helpers import ANSWERS
from kiosk import store


def respond(url, comment):
    """One citizen's full response over real HTTP; returns the thank-you page."""
    session = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      session.get(url + "/", timeout=5).text).group(1)
    for key, value in ANSWERS.items():
        session.post(f"{url}/q/{key}", data={"csrf_token": token, "answer": value},
                     allow_redirects=False, timeout=5).raise_for_status()
    thanks = session.post(url + "/feedback", data={"csrf_token": token, "nav": "submit",
                                                   "comment": comment}, timeout=5)
    assert thanks.url.endswith("/thanks")
    return thanks.text


def test_sigkill_after_thank_you_loses_nothing(live_kiosk):
    kiosk = live_kiosk()
    for round_number in range(1, 4):
        page = respond(kiosk.url, f"Lần {round_number}")
        assert "Đánh giá đã được ghi nhận" in page
        kiosk.process.send_signal(signal.SIGKILL)  # no shutdown, no chance to flush
        kiosk.process.wait(timeout=10)
        kiosk.process.stdout.close()
        verified = kiosk.cli("verify")
        assert verified.returncode == 0, verified.stderr
        assert verified.stdout == f"OK: {round_number} responses, sequence and hash chain intact.\n"
        kiosk.start()

    db = store.connect(kiosk.db_path)
    comments = [row["comment"] for row in db["response_private"].rows_where(order_by="seq")]
    db.close()
    assert comments == ["Lần 1", "Lần 2", "Lần 3"]
