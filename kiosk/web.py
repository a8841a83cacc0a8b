"""Helpers every kiosk view uses: the request's database, config and language."""

from flask import abort, current_app, g, redirect, request, session

from . import store, websafety
from .questionnaire import LANGUAGES


def get_db():
    """The request's connection, opened once and closed at teardown."""
    if "db" not in g:
        g.db = store.connect(current_app.config["KIOSK"].db_path)
    return g.db


def close_db(_error=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def config():
    return current_app.config["KIOSK"]


def questionnaire():
    return current_app.config["QUESTIONNAIRE"]


def language() -> str:
    """The visitor's language: Vietnamese unless they tapped English."""
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else LANGUAGES[0]


def switch_language(code: str, fallback_url: str):
    """Remember the visitor's language and go back to the page they were on."""
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    return redirect(websafety.safe_next(request.args.get("next"), fallback_url))
