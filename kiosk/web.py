"""Helpers every kiosk view uses: the request's database, config, questionnaire and language.

The configuration central sent (``kiosk.central_config``) is picked up here, at the start of
the first request after the uploader stored it: its setting overrides, questionnaire and roster.
"""

import dataclasses
import sqlite3
import threading

from flask import abort, current_app, g, redirect, request, session

from . import central_config, store, websafety
from .flags import FlagPolicy
from .questionnaire import LANGUAGES

_switching = threading.Lock()


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
    """The kiosk's settings in force: its environment's, with central's overrides."""
    return current_app.config["KIOSK"]


def flag_policy(config) -> FlagPolicy:
    return FlagPolicy(config.min_seconds, config.burst_limit, config.burst_window)


def central():
    """The last good configuration from central (a ``central_config.Config``), or None."""
    return current_app.config.get("RECEIVED_CONFIG")


def apply_central_config():
    """Flask ``before_request``: when the uploader stored a new configuration, put it in force.

    Its settings override the environment's; its questionnaire becomes the one new surveys use
    (a survey in progress keeps its own, see ``questionnaire``). One cheap look per request.
    """
    app = current_app
    try:
        version = central_config.stored_version(get_db())
    except sqlite3.Error:  # the page that says the database failed is still shown
        return
    if version == app.config.get("RECEIVED_CONFIG_VERSION"):
        return
    with _switching:
        try:
            received = central_config.current(get_db()) if version else None
        except central_config.ConfigInvalid as error:  # checked when stored: only a hand-edited file
            app.logger.error("The stored configuration from central is unusable (%s); keeping the one in force",
                             error)
            app.config["RECEIVED_CONFIG_VERSION"] = version
            return
        base = app.config["ENV_SETTINGS"]
        kiosk = dataclasses.replace(base, **received.settings) if received else base
        app.config.update(KIOSK=kiosk, FLAG_POLICY=flag_policy(kiosk), RECEIVED_CONFIG=received,
                          QUESTIONNAIRE=(received and received.questionnaire) or app.config["LOCAL_QUESTIONNAIRE"],
                          RECEIVED_CONFIG_VERSION=version)
    if received:
        app.logger.info("Configuration %s from central in force", version[:12])


def questionnaire():
    """The questionnaire of this browser's survey: the one it began on, else the one in force."""
    if "questionnaire" not in g:
        g.questionnaire = _survey_questionnaire()
    return g.questionnaire


def _survey_questionnaire():
    active = current_app.config["QUESTIONNAIRE"]
    survey_id = session.get("survey")
    if not survey_id:
        return active
    try:
        row = get_db().execute("SELECT questionnaire_version FROM drafts WHERE id = ?", [survey_id]).fetchone()
    except sqlite3.Error as error:  # a failing disk: the page that says so still needs a questionnaire
        current_app.logger.error("The survey's questionnaire could not be read (%s); using the one in force", error)
        return active
    if row is None or row[0] == active.version:
        return active
    return known_questionnaire(row[0]) or active


def known_questionnaire(version: str):
    """A questionnaire this kiosk has run, by version (its own file's, or one central sent), or None."""
    known = current_app.config.setdefault("QUESTIONNAIRES", {})
    if version not in known:
        local = current_app.config["LOCAL_QUESTIONNAIRE"]
        found = local if local.version == version else central_config.received_questionnaire(get_db(), version)
        if found is None:
            return None
        known[version] = found
    return known[version]


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
