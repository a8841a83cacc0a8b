"""Central sessions that can be ended: logout, a new password and a disabled account end every copy of the cookie."""

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from conftest import central_env_for
from kiosk.clock import now_utc, utc_iso
from sync.central.store import accounts, cases as case_store, database, migrations
from sync.central.cli import central as central_cli
from helpers import csrf, log_in


def a_case(engine):
    return case_store.list_cases(engine)[0]["id"]


def stolen(client, app):
    """Another browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def cli(central_url, *args, input=None):
    result = CliRunner().invoke(central_cli, list(args), env=central_env_for(central_url), input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_cookie_copied_before_logout_is_sent_to_the_login_page(site, central_app, central_engine):
    case = a_case(central_engine)
    assert log_in(site, "sup-a").status_code == 302
    thief = stolen(site, central_app)
    assert thief.get(f"/cases/{case}").status_code == 200
    assert site.post("/logout", data={"csrf_token": csrf(site, "/")}).headers["Location"] == "/login"
    reply = thief.get(f"/cases/{case}")
    assert reply.status_code == 302 and reply.headers["Location"].startswith("/login")
    assert site.get(f"/cases/{case}").status_code == 302


def test_logout_ends_the_users_sessions_on_every_browser(site, central_app):
    log_in(site, "admin")
    other = central_app.test_client()
    log_in(other, "admin")
    site.post("/logout", data={"csrf_token": csrf(site, "/")})
    assert other.get("/").status_code == 302
    assert log_in(other, "admin").status_code == 302 and other.get("/").status_code == 200  # a new login works


def test_a_new_password_ends_every_session(site, central_app, central_engine, central_url):
    log_in(site, "sup-a")
    thief = stolen(site, central_app)
    assert cli(central_url, "set-password", "sup-a", input="mật-khẩu-mới-dài\n") == \
        "Password of sup-a changed; every session of sup-a has ended.\n"
    assert thief.get("/").status_code == 302 and site.get("/").status_code == 302
    assert log_in(site, "sup-a").status_code == 401
    assert log_in(site, "sup-a", "mật-khẩu-mới-dài").status_code == 302


def test_disable_user_ends_every_session_and_enable_user_lets_them_back(site, central_app, central_url):
    log_in(site, "sup-a")
    thief = stolen(site, central_app)
    assert cli(central_url, "disable-user", "sup-a") == "User sup-a disabled; every session of sup-a has ended.\n"
    assert thief.get("/").status_code == 302 and site.get("/").status_code == 302
    assert log_in(site, "sup-a").status_code == 401
    cli(central_url, "enable-user", "sup-a")
    assert log_in(site, "sup-a").status_code == 302 and site.get("/").status_code == 200
    assert thief.get("/").status_code == 302  # the old cookie stays dead


@pytest.mark.parametrize("args", [["disable-user", "nobody"], ["enable-user", "nobody"], ["set-password", "nobody"]])
def test_an_unknown_user_is_named_and_nothing_changes(central_url, central_engine, args):
    result = CliRunner().invoke(central_cli, args, env=central_env_for(central_url), input="mật-khẩu-mới-dài\n")
    assert (result.exit_code, result.output) == (1, "Error: No user named 'nobody'.\n")


def test_a_short_new_password_is_refused_and_the_old_one_still_works(site, central_url):
    result = CliRunner().invoke(central_cli, ["set-password", "sup-a"], env=central_env_for(central_url),
                                input="ngắn\n")
    assert result.exit_code == 1 and "at least 10 characters; nothing was changed" in result.output
    assert log_in(site, "sup-a").status_code == 302


def test_a_store_made_before_0008_is_upgraded_and_its_users_can_log_in(central_url):
    """An existing store (users without session columns, old login counts) gains them without losing a user."""
    engine = database.engine_for(central_url)
    try:
        migrations.migrate(engine, upto="0007_quarantine_erasure")
        with database.write(engine) as conn:  # users and login counts as 0002 made them
            conn.execute(text("INSERT INTO users (name, display_name, role, password_hash, created_utc) "
                              "VALUES ('old', 'old', 'admin', :hash, :now)"),
                         {"hash": "scrypt$00$00", "now": utc_iso(now_utc())})
            conn.execute(text("INSERT INTO login_attempts (key, failures, locked_until) VALUES ('user:old', 4, NULL)"))
        assert migrations.migrate(engine)[0] == "0008_sessions_lockout"  # and every later step
        user = accounts.get_user(engine, name="old")
        assert (user["session_version"], user["disabled_utc"]) == (1, None)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM login_attempts")).scalar() == 0
        accounts.set_password(engine, "old", "mật-khẩu-mới-dài")
        assert accounts.get_user(engine, name="old")["session_version"] == 2
    finally:
        engine.dispose()
