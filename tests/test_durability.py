"""A response survives the kiosk process being killed right after the thank-you page."""

import signal


from helpers import respond_over_http
from kiosk import store


def test_sigkill_after_thank_you_loses_nothing(live_kiosk):
    kiosk = live_kiosk()
    for round_number in range(1, 4):
        page = respond_over_http(kiosk.url, f"Lần {round_number}")
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
