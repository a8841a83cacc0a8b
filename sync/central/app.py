"""The central server as one Flask app: the API blueprint, the staff pages, security headers and error pages."""

from flask import Flask, current_app, render_template, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from kiosk import websafety
from kiosk.clock import local_time
from kiosk.paths import PACKAGE_DIR, asset_dir
from kiosk.questionnaire import load as load_questionnaire

from . import api, checking
from .config import CentralConfig
from .logins import TrustedProxies
from .store import accounts, database, migrations, schema
from .web import alerts, auth, cases, exports, fleet, numbers, outcomes, pakn, roster, summary, trends
from .workdays import WorkCalendar


def create_app(config: CentralConfig, engine=None) -> Flask:
    """Central's Flask app over `engine` (default: one for ``config.database_url``).

    Raises ``CentralStoreError`` if the store has pending migrations, and ``QuestionnaireError``
    if the questionnaire cannot be read.
    """
    engine = engine or database.engine_for(config.database_url)
    pending = migrations.pending_migrations(engine)
    if pending:
        raise schema.CentralStoreError(
            f"The central database is not initialised or not up to date ({', '.join(pending)} "
            "pending): run `central init` first.")
    questionnaire = load_questionnaire(config.questionnaire_path)
    elements = {q.key: q.elements for q in questionnaire.questions}
    app = Flask(__name__, template_folder=str(asset_dir("templates")), static_folder=str(asset_dir("static")))
    app.json.sort_keys = False  # keep documents in their written order (and answers cheap to encode)
    app.config.update(
        CENTRAL=config, MAX_CONTENT_LENGTH=config.max_body_bytes, ELEMENTS=elements, QUESTIONNAIRE=questionnaire,
        WORKDAYS=WorkCalendar(config.workday_swaps),
        QUESTIONS=[q for q in questionnaire.questions if q.kind == "rating"],
        SECRET_KEY=accounts.get_setting(engine, "secret_key"),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.https, PERMANENT_SESSION_LIFETIME=8 * 3600,
        # A form's token lasts as long as the session: a case page left open over lunch still saves.
        WTF_CSRF_TIME_LIMIT=None,
        BATCH_CHECKER=checking.InRequest(),  # `central run` gives it a worker process
        BABEL_DEFAULT_LOCALE="vi", BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_DIR / "translations"),
    )
    app.extensions["central_engine"] = engine
    app.wsgi_app = TrustedProxies(app.wsgi_app, config.trusted_proxies)
    CSRFProtect(app).exempt(api.bp)  # kiosks sign their batches instead; reading needs a token
    Babel(app, locale_selector=lambda: session.get("lang", "vi"))
    app.after_request(security_headers)
    app.register_blueprint(api.bp)
    for pages in (auth, summary, cases, exports, trends, pakn, outcomes, alerts, roster, fleet):
        app.register_blueprint(pages.bp)
    app.add_template_filter(local_time)
    numbers.register(app)
    app.register_error_handler(CSRFError, auth.form_expired)
    app.register_error_handler(HTTPException, http_error)
    return app


def security_headers(response):
    """Every answer carries the security headers (HSTS too when CENTRAL_HTTPS is on)."""
    return websafety.add_security_headers(response, current_app.config["CENTRAL"].https)


def http_error(error):
    """An HTTP error: JSON under /api/ and /healthz, the error page elsewhere."""
    if not request.path.startswith(("/api/", "/healthz")):
        return render_template("central/error.html", code=error.code,
                               message=websafety.error_message(error)), error.code
    messages = {413: f"The body is larger than {current_app.config['CENTRAL'].max_body_bytes} bytes."}
    return api.error_body(error.code, [messages.get(error.code, error.description)])
