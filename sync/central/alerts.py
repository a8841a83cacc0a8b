"""Alerts to a unit's supervisors: a run of bad ratings, or a reason that must never wait.

After each ingested batch (``after_batch``, called by the API once the batch is
committed) a unit gets an alert when, over the last CENTRAL_ALERT_MINUTES
minutes (by the time the citizen answered, ``created_utc``), at least
CENTRAL_ALERT_PCT percent of at least CENTRAL_ALERT_MIN_RATINGS overall
ratings are 1 or 2 (cause ``low_ratings``), or when an accepted response gives
the questionnaire's reason ``harassment`` or ``extra_demands`` (the causes of
those names). Flagged responses (too fast, burst, repeated dossier) are left
out, as in every figure (see ``kiosk.indices``).

An alert is an episode: while one is open (not acknowledged) for a unit and
cause, no other is opened, so its supervisors get ONE email per episode
(their ``users.email``; none when CENTRAL_SMTP_HOST is unset). The alert shows
on the summary until a supervisor (or an admin) acknowledges it with a
comment; who, when and the comment are kept on the alert.

Nothing here may hold back or fail ingest: the check runs after the commit,
the email goes from a background thread, and every error is logged.
"""

import json
import logging
import smtplib
import threading
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select

from kiosk.clock import local_time, local_today, now_utc, utc_iso
from kiosk.text import nfc

from .store import database
from .store.schema import alerts, responses, users

log = logging.getLogger("central.alerts")

#: Questionnaire reason keys that raise an alert at once (kiosk/questionnaire.toml).
REASON_CAUSES = ("harassment", "extra_demands")
CAUSES = ("low_ratings", *REASON_CAUSES)
_sending = []  # background email threads not yet finished (see ``wait_for_emails``)


def low_share(conn, unit: str, now, rule) -> dict:
    """{"low": overall ratings of 1-2, "rated": overall ratings} of `unit`'s unflagged responses answered
    in the `rule.minutes` minutes up to `now`."""
    since = now - timedelta(minutes=rule.minutes)
    rows = conn.execute(select(responses.c.answers, responses.c.flags).where(
        responses.c.local_day >= local_today(since).isoformat(), responses.c.unit == unit,
        responses.c.created_utc >= utc_iso(since), responses.c.created_utc <= utc_iso(now))).all()
    overall = [json.loads(answers).get("overall") for answers, flags in rows if flags in ("[]", "")]
    rated = [v for v in overall if type(v) is int and 1 <= v <= 5]
    return {"low": sum(v <= 2 for v in rated), "rated": len(rated), "minutes": rule.minutes}


def causes_of(conn, unit, accepted, now, rule) -> dict:
    """{cause: detail} that hold for `unit` now, given the batch's `accepted` responses (wire dicts)."""
    found = {}
    for key in REASON_CAUSES:
        count = sum(key in (r.get("reasons") or []) and not r.get("flags") for r in accepted)
        if count:
            found[key] = {"responses": count}
    if accepted:
        share = low_share(conn, unit, now, rule)
        if share["rated"] >= rule.min_ratings and 100 * share["low"] >= rule.pct * share["rated"]:
            found["low_ratings"] = share
    return found


def check(engine, unit: str, accepted: list, now, rule) -> list:
    """Open an alert for each cause that holds and has no open episode; returns the new alerts (dicts)."""
    unit = nfc(unit)
    with engine.connect() as conn:  # most batches raise nothing: no write transaction for them
        found = causes_of(conn, unit, accepted, now, rule)
    if not found:
        return []
    opened = []
    with database.write(engine) as conn:
        database.lock_unit(conn, unit)  # two batches of one unit at once open one episode, not two
        already = set(conn.execute(select(alerts.c.cause).where(
            alerts.c.unit == unit, alerts.c.ack_utc.is_(None))).scalars())
        for cause, detail in found.items():
            if cause in already:
                continue
            row = {"unit": unit, "cause": cause, "detail": json.dumps(detail), "opened_utc": utc_iso(now)}
            row["id"] = conn.execute(alerts.insert().values(**row)).inserted_primary_key[0]
            opened.append(row)
    return opened


def after_batch(engine, config, unit: str, accepted: list) -> None:
    """The check after a committed batch, and the emails in the background; never raises (errors logged)."""
    try:
        opened = check(engine, unit, accepted, now_utc(), config.alert_rule)
        if opened and config.smtp.host:
            thread = threading.Thread(target=send_emails, args=(engine, config.smtp, opened), daemon=True)
            _sending.append(thread)
            thread.start()
    except Exception:  # an alert must never fail the batch the kiosk is waiting on
        log.exception("alert check failed for unit %s", unit)


def wait_for_emails(timeout: float = 10.0) -> None:
    """Wait for the emails being sent (tests, and a clean shutdown)."""
    while _sending:
        _sending.pop().join(timeout)


def recipients(engine, unit: str) -> list:
    """The email addresses of `unit`'s enabled supervisors."""
    with engine.connect() as conn:
        return conn.execute(select(users.c.email).where(
            users.c.unit == unit, users.c.role == "supervisor", users.c.disabled_utc.is_(None),
            users.c.email.is_not(None), users.c.email != "").order_by(users.c.id)).scalars().all()


SUBJECTS = {"low_ratings": ("Nhiều đánh giá không hài lòng", "Many dissatisfied ratings"),
            "harassment": ("Người dân phản ánh bị gây phiền hà, nhũng nhiễu", "A citizen reports harassment"),
            "extra_demands": ("Người dân phản ánh bị yêu cầu thêm giấy tờ, phí ngoài quy định",
                              "A citizen reports extra documents or fees demanded")}


def message_for(alert: dict, sender: str, to: list) -> EmailMessage:
    """The alert email: Vietnamese first, English below; no citizen's comment or phone in it."""
    vi, en = SUBJECTS[alert["cause"]]
    detail = json.loads(alert["detail"])
    if alert["cause"] == "low_ratings":
        facts = (f"{detail['low']}/{detail['rated']} đánh giá chung mức 1–2 trong {detail['minutes']} phút qua.",
                 f"{detail['low']} of {detail['rated']} overall ratings were 1 or 2 in the last "
                 f"{detail['minutes']} minutes.")
    else:
        facts = (f"{detail['responses']} phiếu nêu lý do này.", f"{detail['responses']} response(s) gave this reason.")
    message = EmailMessage()
    message["Subject"] = f"[SIPAS] {alert['unit']}: {vi}"
    message["From"], message["To"] = sender, ", ".join(to)
    message.set_content(
        f"Đơn vị: {alert['unit']}\nLúc: {local_time(alert['opened_utc'])}\n{vi}. {facts[0]}\n"
        "Vui lòng mở trang Tổng hợp ngày để xem và xác nhận đã xử lý.\n\n"
        f"Unit: {alert['unit']}\nAt: {local_time(alert['opened_utc'])}\n{en}. {facts[1]}\n"
        "Please open the daily summary to look and acknowledge it.\n")
    return message


def send_emails(engine, smtp, opened: list) -> None:
    """One email per new alert to its unit's supervisors; the send time is recorded. Errors are logged."""
    for alert in opened:
        try:
            to = recipients(engine, alert["unit"])
            if not to:
                log.warning("alert %s for %s: no supervisor has an email address", alert["id"], alert["unit"])
                continue
            connect = smtplib.SMTP_SSL if smtp.tls == "ssl" else smtplib.SMTP
            with connect(smtp.host, smtp.port, timeout=30) as server:
                if smtp.tls == "starttls":
                    server.starttls()
                if smtp.user:
                    server.login(smtp.user, smtp.password or "")
                server.send_message(message_for(alert, smtp.sender, to))
            with database.write(engine) as conn:
                conn.execute(alerts.update().where(alerts.c.id == alert["id"]).values(emailed_utc=utc_iso(now_utc())))
        except Exception:  # the alert still shows on the summary
            log.exception("alert %s for %s: the email was not sent", alert["id"], alert["unit"])


def open_alerts(engine, unit=None) -> list:
    """Alerts not yet acknowledged (of `unit`, or every unit), newest first, detail decoded."""
    query = select(alerts).where(alerts.c.ack_utc.is_(None)).order_by(alerts.c.id.desc())
    if unit:
        query = query.where(alerts.c.unit == nfc(unit))
    with engine.connect() as conn:
        return [{**row, "detail": json.loads(row["detail"])} for row in conn.execute(query).mappings()]


def acknowledge(engine, alert_id: int, user_name: str, comment: str, now, unit=None) -> bool:
    """Close an open alert with who, when and a comment; False (nothing changed) if it is not open,
    or not of `unit` when one is given."""
    query = alerts.update().where(alerts.c.id == alert_id, alerts.c.ack_utc.is_(None))
    if unit:
        query = query.where(alerts.c.unit == nfc(unit))
    with database.write(engine) as conn:
        return conn.execute(query.values(ack_user=user_name, ack_utc=utc_iso(now),
                                         ack_comment=comment)).rowcount == 1


def history(engine, unit=None, limit=20) -> list:
    """Acknowledged alerts, newest first: the log of who closed which episode, when, and why."""
    query = select(alerts).where(alerts.c.ack_utc.is_not(None)).order_by(alerts.c.ack_utc.desc()).limit(limit)
    if unit:
        query = query.where(alerts.c.unit == nfc(unit))
    with engine.connect() as conn:
        return conn.execute(query).mappings().all()
