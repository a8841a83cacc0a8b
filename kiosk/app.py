"""The kiosk's Flask app factory."""

import sqlite3

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import Babel, gettext
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from . import config as kiosk_config
from . import clients, drafts, outbox, store, websafety
from .clock import local_time, now_utc
from .paths import PACKAGE_DIR, asset_dir
from .questionnaire import load as load_questionnaire
from .web import apply_central_config, close_db, flag_policy, get_db, language

csrf = CSRFProtect()
babel = Babel()


def create_app(config: kiosk_config.KioskConfig | None = None, **overrides) -> Flask:
    """Build the kiosk app; settings come from the environment unless given.

    Raises ``SettingError``, ``QuestionnaireError`` or ``StoreError`` with a
    one-sentence message when something is missing or wrong.
    """
    config = config or kiosk_config.load()
    questionnaire = load_questionnaire(config.questionnaire_path)
    db = store.open_existing(config.db_path, config.kiosk_id)
    try:
        secret_key = store.get_setting(db, "secret_key")
        with store.write(db):  # what the uploader reports to central when no questionnaire came from it
            store.set_setting(db, "local_questionnaire_version", questionnaire.version)
        # Surveys left open when the kiosk stopped are kept, as incomplete.
        drafts.finish_stale_drafts(db, idle_before=now_utc(), now=now_utc(),
                                   policy=flag_policy(config))
    finally:
        db.close()

    app = Flask(__name__, template_folder=str(asset_dir("templates")),
                static_folder=str(asset_dir("static")))
    app.config.update(
        SECRET_KEY=secret_key,
        KIOSK=config,
        ENV_SETTINGS=config,  # before central's overrides (kiosk.web.apply_central_config)
        QUESTIONNAIRE=questionnaire,
        LOCAL_QUESTIONNAIRE=questionnaire,
        FLAG_POLICY=flag_policy(config),
        # The welcome page may stay open all day: a CSRF token lasts as long
        # as the browser session instead of Flask-WTF's default hour.
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=64 * 1024,
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_DIR / "translations"),
    )
    app.config.update(overrides)
    # First of all: a client outside KIOSK_ALLOWED_CLIENTS is refused before anything reads or writes.
    app.before_request(refuse_other_clients)
    app.before_request(apply_central_config)  # central's configuration, before any view reads settings
    csrf.init_app(app)
    babel.init_app(app, locale_selector=language)
    app.teardown_appcontext(close_db)
    app.context_processor(lambda: {"lang": language()})
    app.add_template_filter(local_time)

    from . import staff, survey

    app.register_blueprint(survey.bp)
    app.register_blueprint(staff.bp)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(websafety.add_security_headers)

    app.register_error_handler(sqlite3.Error, _write_error)

    app.add_url_rule("/healthz", "healthz", healthz)
    return app


def healthz():
    """JSON about the kiosk; ``ok`` is false (503) when the database cannot be written."""
    config, questionnaire = current_app.config["KIOSK"], current_app.config["QUESTIONNAIRE"]
    try:
        db = get_db()
        store.check_writable(db, now_utc())
    except sqlite3.Error as error:
        return jsonify(ok=False, kiosk_id=config.kiosk_id,
                       error=f"The database cannot be written: {error}."), 503
    return jsonify(
        ok=True,
        kiosk_id=config.kiosk_id,
        questionnaire_version=questionnaire.version,
        central_config_version=current_app.config.get("RECEIVED_CONFIG_VERSION"),
        responses=db["responses"].count,
        open_surveys=db["drafts"].count,
        marked=store.mark_counts(db),
        sync=outbox.status(db),
    )


def refuse_other_clients():
    """Flask ``before_request``: a 403 page for a client outside KIOSK_ALLOWED_CLIENTS, else None."""
    if request.endpoint in clients.OPEN_ENDPOINTS:
        return None
    if clients.allowed(request.remote_addr, current_app.config["KIOSK"].allowed_clients):
        return None
    current_app.logger.warning("Refused %s %s from %s (not in KIOSK_ALLOWED_CLIENTS)",
                               request.method, request.path, request.remote_addr)
    message = gettext("This kiosk only takes answers on the screen at the counter. Please use the "
                      "screen at the counter, or ask the staff for help.")
    # No counter or officer on the page, and no idle reset back to the survey.
    return render_template("kiosk/error.html", code=403, message=message, on_duty=None, refused=True,
                           heading=gettext("This kiosk cannot be used from here"), idle_seconds=0), 403


def _http_error(error: HTTPException):
    return render_template("kiosk/error.html", code=error.code, message=websafety.error_message(error)), error.code


def _write_error(error):
    """The database could not be written (full disk, read-only file): say so, offer a retry."""
    current_app.logger.error("Database write failed on %s %s: %s", request.method, request.path, error)
    message = gettext("Your answer could not be saved because of a fault on this machine: "
                      "nothing was saved. Please try again; if it fails again, please tell the staff.")
    retry = request.path if request.method == "POST" and request.path.startswith("/q/") else None
    return render_template("kiosk/error.html", code=503, message=message, retry_url=retry), 503


def _csrf_error(_error):
    message = gettext("This form has expired. Please start again: nothing was saved.")
    return render_template("kiosk/error.html", code=400, message=message), 400
