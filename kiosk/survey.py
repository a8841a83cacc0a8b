"""The citizen's survey: one question per screen, state kept on the server.

A survey in progress is a draft row; it becomes an immutable response when
the citizen sends it, or, marked incomplete, when the idle timer fires or the
kiosk restarts. Plain form posts do everything; JavaScript only adds comfort.
"""

import sqlite3
import uuid
from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext

from . import drafts, staff, store
from .clock import now_utc
from .forms import SURVEY_ID, AnswerForm, FeedbackForm
from . import web
from .web import config, get_db, language, questionnaire

bp = Blueprint("survey", __name__)

#: A draft untouched this long (beyond the idle timeout) belongs to a browser
#: that is gone; it is kept as an incomplete response.
ABANDONED_AFTER = timedelta(minutes=10)


def policy():
    return current_app.config["FLAG_POLICY"]


@bp.before_app_request
def keep_abandoned_surveys():
    if request.endpoint in (None, "static"):
        return
    now = now_utc()
    idle_before = now - timedelta(seconds=config().idle_seconds) - ABANDONED_AFTER
    try:
        drafts.finish_stale_drafts(get_db(), idle_before=idle_before, now=now, policy=policy())
    except sqlite3.Error:  # a full disk: the drafts stay, to be kept once it can write
        current_app.logger.exception("Abandoned surveys could not be kept yet")


@bp.app_context_processor
def duty_on_screen():
    """Counter and officer on duty, shown on every screen so the citizen knows whom they rate."""
    if request.endpoint in (None, "static"):
        return {}
    try:
        db = get_db()
        return {"on_duty": {"counter": store.get_setting(db, "counter"),
                         "officer": store.get_setting(db, "officer")}}
    except sqlite3.Error:  # the page that says the database failed is still shown
        return {}


def current_survey() -> str:
    """The id of the survey this browser is on; a new one once the last has ended."""
    survey_id = session.get("survey")
    if survey_id is None or drafts.survey_ended(get_db(), survey_id):
        survey_id = session["survey"] = str(uuid.uuid4())
    return survey_id


def current_draft():
    return drafts.get_draft(get_db(), session.get("survey"))


def posted_survey(form) -> str:
    """The survey a form belongs to: the id it carries, else (an older page) this browser's."""
    survey_id = form.survey.data or current_survey()
    session["survey"] = survey_id
    return survey_id


def mask_dossier(code):
    """A dossier code as the citizen sees it: only its last characters (at most 4)."""
    if not code:
        return None
    shown = max(1, min(4, len(code) // 2))
    return "…" + code[-shown:]


def screen_url(key):
    return url_for("survey.welcome") if key == questionnaire().questions[0].key \
        else url_for("survey.question", key=key)


def render_question(question):
    survey_id = current_survey()
    draft = current_draft()
    keys = [q.key for q in questionnaire().questions]
    chosen = (draft or {}).get("answers", {}).get(question.key)
    welcome = question.key == keys[0]
    dossier = draft["dossier_code"] if draft else store.get_setting(get_db(), "pending_dossier")
    return render_template(
        "kiosk/question.html",
        question=question,
        form=AnswerForm(question, survey=survey_id, seen="" if chosen is None else str(chosen)),
        chosen=chosen,
        number=keys.index(question.key) + 1,
        total=len(keys) + 1,
        welcome=welcome,
        in_progress=draft is not None,
        dossier=mask_dossier(dossier) if welcome else None,
        countdown=not welcome or draft is not None or dossier is not None or language() != "vi",
    )


@bp.get("/")
def welcome():
    session.pop("thanked", None)
    return render_question(questionnaire().questions[0])


@bp.get("/q/<key>")
def question(key):
    q = questionnaire().question(key)
    if q is None:
        abort(404)
    if q.key == questionnaire().questions[0].key:
        return redirect(url_for("survey.welcome"))
    if session.get("thanked"):  # browser Back from the thank-you page: that survey is sent
        return redirect(url_for("survey.thanks"))
    return render_question(q)


@bp.post("/q/<key>")
def answer(key):
    q = questionnaire().question(key)
    if q is None:
        abort(400, description=gettext("There is no question “%(key)s”. Nothing was saved.", key=key))
    form = AnswerForm(q)
    if not form.validate_on_submit():
        message = next(iter(form.errors.values()))[0]
        abort(400, description=f"{message} " + gettext("Nothing was saved."))
    now, db = now_utc(), get_db()
    survey_id = posted_survey(form)
    session.pop("thanked", None)
    if form.nav.data == "restart":
        return redirect(url_for("survey.reset"))
    step = -1 if form.nav.data == "back" else 1
    if form.answer.data:
        seen = q.parse(form.seen.data) if form.seen.data else None
        outcome = drafts.answer(db, survey_id, questionnaire().version, q.key,
                               q.parse(form.answer.data), seen, now)
        if outcome == drafts.ENDED:  # a page of a survey already sent (browser Back)
            return thank()
    elif current_draft():
        drafts.touch_draft(db, survey_id, now)
    target = questionnaire().neighbour(q.key, step)
    if target is None:
        return redirect(url_for("survey.welcome") if step < 0 else url_for("survey.feedback"))
    return redirect(screen_url(target))


def reason_choices(draft) -> list:
    """The reasons the last screen offers for this draft's answers, as (key, label) pairs."""
    reasons = questionnaire().reasons_for((draft or {}).get("answers", {}))
    return [(r.key, r.text[language()]) for r in reasons]


def feedback_form(draft, **data):
    form = FeedbackForm(**data)
    form.reasons.choices = reason_choices(draft)
    return form


def render_feedback(form, status=200, write_failed=False):
    return render_template("kiosk/feedback.html", form=form, write_failed=write_failed,
                           total=len(questionnaire().questions) + 1), status


def entered(form, valid_only=False) -> dict:
    """What the last screen holds, as a draft keeps it; with ``valid_only``, fields in error are left out."""
    offered = {value for value, _label in form.reasons.choices}
    phone_ok = form.consent.data and not (valid_only and form.phone.errors)
    return {
        "reasons": sorted(r for r in form.reasons.data or [] if r in offered),
        "comment": None if valid_only and form.comment.errors else form.comment.data or None,
        "phone": (form.phone.data or None) if phone_ok else None,
    }


@bp.get("/feedback")
def feedback():
    if session.get("thanked"):  # browser Back from the thank-you page: that survey is sent
        return redirect(url_for("survey.thanks"))
    current_survey()
    draft = current_draft()
    kept = draft["feedback"] if draft else drafts.NO_FEEDBACK
    form = feedback_form(draft, survey=session["survey"], reasons=kept["reasons"],
                         comment=kept["comment"], phone=kept["phone"], consent=bool(kept["phone"]))
    return render_feedback(form)


@bp.post("/feedback")
def send():
    """Finish the survey with the last screen's entries; Back and Start over keep them with it.

    If the database cannot be written, the screen comes back as it was sent, with a
    message that nothing was saved (503); the draft stays for the retry.
    """
    questionnaire()  # read before the write: a failed write can leave the connection unable to read
    try:
        return finish_survey()
    except sqlite3.Error:
        current_app.logger.exception("The response could not be written")
        form = FeedbackForm()
        posted = set(form.reasons.data or [])
        form.reasons.choices = [(r.key, r.text[language()]) for r in questionnaire().reasons
                                if r.key in posted]
        return render_feedback(form, status=503, write_failed=True)


def finish_survey():
    form = FeedbackForm()
    posted = request.form.get("survey", "")
    survey_id = posted_survey(form) if not posted or SURVEY_ID.match(posted) else current_survey()
    draft = drafts.get_draft(get_db(), survey_id)
    form.reasons.choices = reason_choices(draft)
    valid = form.validate_on_submit()
    if form.nav.errors or form.survey.errors:
        return render_feedback(form, status=400)
    db, now, nav = get_db(), now_utc(), form.nav.data
    if drafts.survey_ended(db, survey_id):  # sent already (Back, a double post): nothing more
        return redirect(url_for("survey.reset")) if nav == "restart" else thank()
    if nav == "restart":  # the citizen or the idle timer starts over: keep what is valid
        kept = entered(form, valid_only=True)
        if draft or any(kept.values()):
            drafts.save_feedback(db, survey_id, questionnaire().version, kept, now)
        return redirect(url_for("survey.reset"))
    if not valid:
        return render_feedback(form, status=400)
    kept = entered(form)
    if nav in ("back", "lang-vi", "lang-en"):  # leaving the screen keeps what was entered
        if draft or any(kept.values()):
            drafts.save_feedback(db, survey_id, questionnaire().version, kept, now)
        if nav == "back":
            return redirect(screen_url(questionnaire().questions[-1].key))
        return redirect(url_for("survey.switch_language", code=nav[len("lang-"):], next=url_for("survey.feedback")))
    if draft is None and not any(kept.values()):
        store.forget_pending_dossier(db)  # that citizen's turn is over: the code is not the next one's
        return thank()  # a survey with nothing in it: nothing to keep
    drafts.finish_draft(db, survey_id, complete=True, now=now, policy=policy(),
                       questionnaire_version=questionnaire().version, **kept)
    return thank()


def thank():
    """The thank-you page, reached only once the survey is committed."""
    session.pop("survey", None)
    session["thanked"] = True
    return redirect(url_for("survey.thanks"))


@bp.get("/thanks")
def thanks():
    if not session.get("thanked"):
        return redirect(url_for("survey.welcome"))
    return render_template("kiosk/thanks.html")


def end_session():
    """Keep the survey in progress (if any) as incomplete; forget the language; end staff mode
    (on the kiosk's side too, so no copy of the cookie opens it again)."""
    survey_id = session.pop("survey", None)
    if survey_id:
        drafts.finish_draft(get_db(), survey_id, complete=False, now=now_utc(), policy=policy())
    staff.end_staff_session(get_db())  # before its token leaves the cookie: every copy of the cookie ends too
    for key in ("lang", "thanked"):
        session.pop(key, None)


@bp.get("/reset")
def reset():
    """Idle timeout, "start over" and end of a survey: keep what was answered, start afresh.

    A dossier staff set for a citizen who did not start expires here too.
    """
    end_session()
    db = get_db()
    store.forget_pending_dossier(db)
    return redirect(url_for("survey.welcome"))


@bp.get("/lang/<code>")
def switch_language(code):
    return web.switch_language(code, url_for("survey.welcome"))
