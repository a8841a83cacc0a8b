"""Alerts (sync.central.alerts) on SQLite and PostgreSQL, with a real SMTP server (aiosmtpd) on loopback:
one email per episode for a burst of bad ratings, none below the minimum count, one for a harassment
reason, the alert on the summary until a supervisor acknowledges it with a comment (logged)."""

import email
import email.policy
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import central_env_for, free_port
from helpers import STAFF_PASSWORD, add_officer_login, add_responses, csrf, log_in, post, wire_responses
from kiosk.clock import now_utc
from sync import wire
from sync.central import alerts
from sync.central.store import accounts, schema


class Inbox:
    """aiosmtpd's handler: every message received, as (envelope recipients, parsed message)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


def make_site(central_url, central_engine, smtp_port, **env):
    from sync.central import app as central
    from sync.central.config import load
    settings = {**central_env_for(central_url), "CENTRAL_SMTP_HOST": "127.0.0.1", "CENTRAL_SMTP_PORT": str(smtp_port),
                "CENTRAL_SMTP_FROM": "sipas@example.gov.vn", "CENTRAL_SMTP_TLS": "none", **env}
    app = central.create_app(load(settings), central_engine)
    app.config["TESTING"] = True
    client = app.test_client()
    client.secret = accounts.add_kiosk(central_engine, "k-a", "Unit A")
    accounts.add_user(central_engine, "sup-a", "supervisor", "Unit A", STAFF_PASSWORD, email="lan@example.gov.vn")
    accounts.add_user(central_engine, "sup-a2", "supervisor", "Unit A", STAFF_PASSWORD, email="minh@example.gov.vn")
    accounts.add_user(central_engine, "sup-b", "supervisor", "Unit B", STAFF_PASSWORD, email="b@example.gov.vn")
    add_officer_login(central_engine, "an", "Unit A", "An", "cb-an")
    return client


def send(client, path, count, overall, **private):
    """`count` responses rated `overall` now, sent with the earlier ones (duplicates by then); the number
    accepted, once any email has gone."""
    add_responses(path, count, kiosk_id="k-a", answers={"overall": overall}, **private)
    reply = post(client, client.secret, wire.batch("k-a", wire_responses(path)), kiosk="k-a")
    alerts.wait_for_emails()
    return reply.get_json()["accepted"]


def alert_rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(schema.alerts).order_by(schema.alerts.c.id)).mappings().all()


def test_a_burst_of_bad_ratings_sends_exactly_one_email(central_url, central_engine, smtp, tmp_path):
    site = make_site(central_url, central_engine, smtp.port)
    path = tmp_path / "k-a.db"
    assert send(site, path, 2, 5) == 2
    assert send(site, path, 3, 1) == 3  # 3 of 5 ratings are 1: 60% >= 50%, and 5 >= 4 ratings
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert sorted(recipients) == ["lan@example.gov.vn", "minh@example.gov.vn"]  # Unit A's supervisors only
    assert "Nhiều đánh giá không hài lòng" in message["Subject"] and "Unit A" in message["Subject"]
    body = message.get_content()
    assert "3/5 đánh giá chung mức 1–2 trong 15 phút qua." in body
    assert send(site, path, 4, 2) == 4  # the same episode goes on: no second email
    assert send(site, path, 1, 1) == 1
    assert len(smtp.messages) == 1
    rows = alert_rows(central_engine)
    assert [(r["cause"], r["ack_utc"]) for r in rows] == [("low_ratings", None)] and rows[0]["emailed_utc"]


def test_no_alert_below_the_minimum_count(central_url, central_engine, smtp, tmp_path):
    site = make_site(central_url, central_engine, smtp.port)
    assert send(site, tmp_path / "k-a.db", 3, 1) == 3  # 100% bad, but 3 < 4 ratings
    assert smtp.messages == [] and alert_rows(central_engine) == []


def test_ratings_outside_the_window_do_not_count(central_url, central_engine, smtp, tmp_path):
    site = make_site(central_url, central_engine, smtp.port, CENTRAL_ALERT_MINUTES="10")
    path = tmp_path / "k-a.db"
    add_responses(path, 3, kiosk_id="k-a", answers={"overall": 1}, now=now_utc() - timedelta(minutes=20))
    assert send(site, path, 1, 1) == 4  # a kiosk back online: only 1 rating of the last 10 minutes
    assert smtp.messages == [] and alert_rows(central_engine) == []


def test_a_harassment_reason_alerts_at_once_and_the_acknowledgement_is_logged(
        central_url, central_engine, smtp, tmp_path):
    site = make_site(central_url, central_engine, smtp.port)
    path = tmp_path / "k-a.db"
    assert send(site, path, 1, 3, reasons=["harassment"]) == 1
    assert len(smtp.messages) == 1 and "nhũng nhiễu" in smtp.messages[0][1]["Subject"]
    alert = alert_rows(central_engine)[0]
    log_in(site, "sup-a")
    page = site.get("/").get_data(as_text=True)
    assert "Cảnh báo cần xử lý" in page and "người dân phản ánh bị gây phiền hà, nhũng nhiễu" in page
    token = csrf(site, "/")
    empty = site.post(f"/alerts/{alert['id']}/ack", data={"csrf_token": token, "comment": "  "})
    assert empty.status_code == 400 and alert_rows(central_engine)[0]["ack_utc"] is None
    log_in(site, "sup-b")  # another unit's supervisor cannot close it
    assert site.post(f"/alerts/{alert['id']}/ack", data={"csrf_token": csrf(site, "/"),
                                                         "comment": "x"}).status_code == 404
    log_in(site, "an")  # nor can an officer, who does not see it
    assert "Cảnh báo cần xử lý" not in site.get("/").get_data(as_text=True)
    assert site.post(f"/alerts/{alert['id']}/ack", data={"csrf_token": csrf(site, "/"),
                                                         "comment": "x"}).status_code == 403
    log_in(site, "sup-a")
    done = site.post(f"/alerts/{alert['id']}/ack", data={"csrf_token": csrf(site, "/"),
                                                         "comment": "Đã gặp công dân và xin lỗi."})
    assert done.status_code == 302
    row = alert_rows(central_engine)[0]
    assert (row["ack_user"], row["ack_comment"]) == ("sup-a", "Đã gặp công dân và xin lỗi.") and row["ack_utc"]
    page = site.get("/").get_data(as_text=True)
    assert "Cảnh báo cần xử lý" not in page
    assert "sup-a đã xử lý lúc" in page and "“Đã gặp công dân và xin lỗi.”" in page  # the log, on the summary
    assert send(site, path, 1, 3, reasons=["harassment"]) == 1  # a new episode once the last was closed
    assert len(smtp.messages) == 2 and len(alert_rows(central_engine)) == 2


def test_without_an_smtp_host_the_alert_only_shows(central_url, central_engine, smtp, tmp_path):
    site = make_site(central_url, central_engine, smtp.port, CENTRAL_SMTP_HOST="")
    assert send(site, tmp_path / "k-a.db", 4, 1) == 4
    assert smtp.messages == []
    assert [(r["cause"], r["emailed_utc"]) for r in alert_rows(central_engine)] == [("low_ratings", None)]


def test_an_smtp_server_that_is_away_fails_nothing(central_url, central_engine, tmp_path, caplog):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    site = make_site(central_url, central_engine, port)
    assert send(site, tmp_path / "k-a.db", 4, 1) == 4  # the batch is stored and answered
    assert [r["emailed_utc"] for r in alert_rows(central_engine)] == [None]
    assert "the email was not sent" in caplog.text


@pytest.mark.parametrize("central_url", ["sqlite"], indirect=True)
def test_add_user_takes_an_email_for_alerts(central_url, central_engine):
    from click.testing import CliRunner

    from sync.central.cli import central
    env = central_env_for(central_url)
    bad = CliRunner().invoke(central, ["add-user", "lan", "--role", "supervisor", "--unit", "Unit A",
                                       "--email", "lan at example"], env=env, input="mat-khau-rat-dai\n")
    assert bad.exit_code != 0 and "--email must be one email address" in bad.output
    good = CliRunner().invoke(central, ["add-user", "lan", "--role", "supervisor", "--unit", "Unit A",
                                        "--email", "lan@example.gov.vn"], env=env, input="mat-khau-rat-dai\n")
    assert good.exit_code == 0, good.output
    assert alerts.recipients(central_engine, "Unit A") == ["lan@example.gov.vn"]
