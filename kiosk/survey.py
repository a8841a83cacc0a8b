"""The citizen's survey: one question per screen, state kept on the server.

A survey in progress is a draft row; it becomes an immutable response when
the citizen sends it, or, marked incomplete, when the idle timer fires or the
kiosk restarts. Plain form posts do everything; JavaScript only adds comfort.
"""

from datetime import timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext

from . import staff, store
from .clock import now_utc
from .forms import AnswerForm, FeedbackForm
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
    store.finish_stale_drafts(get_db(), idle_before=idle_before, now=now, policy=policy())


@bp.app_context_processor
def duty_on_screen():
    """Counter and officer on duty, shown on every screen so the citizen knows whom they rate."""
    if request.endpoint in (None, "static"):
        return {}
    db = get_db()
    return {"on_duty": {"counter": store.get_setting(db, "counter"),
                     "officer": store.get_setting(db, "officer")}}


def current_draft():
    return store.get_draft(get_db(), session.get("draft"))


def screen_url(key):
    return url_for("survey.welcome") if key == questionnaire().questions[0].key \
        else url_for("survey.question", key=key)


def render_question(question):
    draft = current_draft()
    keys = [q.key for q in questionnaire().questions]
    return render_template(
        "kiosk/question.html",
        question=question,
        form=AnswerForm(question),
        chosen=(draft or {}).get("answers", {}).get(question.key),
        number=keys.index(question.key) + 1,
        total=len(keys) + 1,
        welcome=question.key == keys[0],
    )


@bp.get("/")
def welcome():
    return render_question(questionnaire().questions[0])


@bp.get("/q/<key>")
def question(key):
    q = questionnaire().question(key)
    if q is None:
        abort(404)
    if q.key == questionnaire().questions[0].key:
        return redirect(url_for("survey.welcome"))
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
    step = -1 if form.nav.data == "back" else 1
    if form.answer.data:
        draft = current_draft()
        if draft is None:
            session["draft"] = store.start_draft(db, questionnaire().version, now)
        store.save_answer(db, session["draft"], q.key, q.parse(form.answer.data), now)
    elif current_draft():
        store.touch_draft(db, session["draft"], now)
    target = questionnaire().neighbour(q.key, step)
    if target is None:
        return redirect(url_for("survey.welcome") if step < 0 else url_for("survey.feedback"))
    return redirect(screen_url(target))


def feedback_form(draft):
    form = FeedbackForm()
    reasons = questionnaire().reasons_for((draft or {}).get("answers", {}))
    form.reasons.choices = [(r.key, r.text[language()]) for r in reasons]
    return form


def render_feedback(form, status=200):
    return render_template("kiosk/feedback.html", form=form,
                           total=len(questionnaire().questions) + 1), status


@bp.get("/feedback")
def feedback():
    return render_feedback(feedback_form(current_draft()))


@bp.post("/feedback")
def send():
    draft = current_draft()
    nav = request.form.get("nav")
    if nav == "back":
        return redirect(screen_url(questionnaire().questions[-1].key))
    if nav == "skip":  # finish without adding anything (CSRF was checked before the view)
        if draft:
            store.finish_draft(get_db(), session.pop("draft"), complete=True, now=now_utc(),
                               policy=policy())
        return redirect(url_for("survey.thanks"))
    form = feedback_form(draft)
    if not form.validate_on_submit():
        return render_feedback(form, status=400)
    phone = form.phone.data if form.consent.data else None
    has_text = bool(form.reasons.data or form.comment.data or phone)
    if draft is None and not has_text:
        # A second tap on "send", or a survey with nothing in it: nothing to keep.
        return redirect(url_for("survey.thanks"))
    now, db = now_utc(), get_db()
    if draft is None:
        session["draft"] = store.start_draft(db, questionnaire().version, now)
    store.finish_draft(db, session.pop("draft"), complete=True, now=now, policy=policy(),
                       reasons=form.reasons.data, comment=form.comment.data or None, phone=phone)
    return redirect(url_for("survey.thanks"))


@bp.get("/thanks")
def thanks():
    return render_template("kiosk/thanks.html")


@bp.get("/reset")
def reset():
    """Idle timeout and end of a survey: keep what was answered, start afresh."""
    draft_id = session.pop("draft", None)
    if draft_id:
        store.finish_draft(get_db(), draft_id, complete=False, now=now_utc(), policy=policy())
    session.pop("lang", None)
    staff.end_staff_session(get_db())
    return redirect(url_for("survey.welcome"))


@bp.get("/lang/<code>")
def switch_language(code):
    return web.switch_language(code, url_for("survey.welcome"))
