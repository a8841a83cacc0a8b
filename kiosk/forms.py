"""Every form the kiosk shows. Text is normalised to NFC; control characters are refused."""

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, HiddenField, PasswordField, RadioField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .text import CONTROL, SURROGATE

COMMENT_MAX = 1000
PHONE = re.compile(r"^(0\d{9,10}|\+84\d{9,10})$")
SURVEY_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def survey_field():
    """The survey's own id (a UUID), carried by every survey form; optional for old pages."""
    return HiddenField(validators=[Optional(), Regexp(SURVEY_ID, message=_l("Unknown survey."))])


def nfc(text):
    """Canonical Unicode (composed Vietnamese) with plain newlines."""
    if not isinstance(text, str):
        return text
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()


def no_control_characters(_form, field):
    if field.data and (CONTROL.search(field.data) or SURROGATE.search(field.data)):
        raise ValidationError(_l("Please remove the invisible control characters from this text."))


def phone_digits(text):
    """'091 234-5678' and '091.234.5678' are both stored as 0912345678."""
    return re.sub(r"[\s.\-()]", "", text) if isinstance(text, str) else text


class AnswerForm(FlaskForm):
    """One tap on a question screen: an answer, or back / skip / restart.

    ``seen`` is the answer the screen showed as chosen when drawn ("" for none).
    """

    answer = StringField(validators=[Optional(), Length(max=16)])
    nav = StringField(validators=[Optional(), AnyOf(["back", "skip", "restart"],
                                                    message=_l("Unknown action."))])
    survey = survey_field()
    seen = HiddenField(validators=[Optional(), Length(max=16)])

    def __init__(self, question, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.question = question

    def validate_answer(self, field):
        if field.data and self.question.parse(field.data) is None:
            raise ValidationError(_l("“%(value)s” is not an answer to this question.", value=field.data))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if valid and not self.answer.data and not self.nav.data:
            self.answer.errors = [_l("Please choose an answer.")]
            return False
        return valid


class FeedbackForm(FlaskForm):
    """The last screen: reasons (when a rating was low), comment, optional phone."""

    reasons = SelectMultipleField(choices=[], option_widget=CheckboxInput(), widget=ListWidget(),
                                  validate_choice=False)
    comment = TextAreaField(
        filters=[nfc],
        validators=[Optional(), Length(max=COMMENT_MAX, message=_l(
            "Please shorten your comment to at most %(max)d characters.")), no_control_characters])
    phone = StringField(
        filters=[nfc, phone_digits],
        validators=[Optional(), Regexp(PHONE, message=_l(
            "Please enter a Vietnamese phone number such as 0912 345 678, or leave it empty."))])
    consent = BooleanField()
    # "skip" (an older page) sends what is there, like "submit"; "back" and "restart"
    # (also the idle reset) keep what is there with the survey.
    nav = StringField(validators=[AnyOf(["submit", "skip", "back", "restart", "lang-vi", "lang-en"],
                                        message=_l("Unknown action."))])
    survey = survey_field()

    def validate_reasons(self, field):
        offered = {value for value, _label in field.choices}
        unknown = [value for value in field.data if value not in offered]
        if unknown:
            raise ValidationError(_l("“%(value)s” is not one of the reasons offered.", value=unknown[0]))

    def validate_phone(self, field):
        if field.data and not self.consent.data:
            raise ValidationError(_l(
                "To leave your number, tick the consent box; or clear the number."))


class PinForm(FlaskForm):
    pin = PasswordField(validators=[DataRequired(_l("Enter the PIN.")),
                                    Regexp(r"^\d{4,8}$", message=_l("The PIN is 4 to 8 digits."))])


class DutyForm(FlaskForm):
    counter = StringField(filters=[nfc], validators=[
        DataRequired(_l("Enter the counter.")), Length(max=20, message=_l("At most %(max)d characters.")),
        no_control_characters])
    officer = StringField(filters=[nfc], validators=[
        DataRequired(_l("Enter the officer's name.")), Length(max=80, message=_l("At most %(max)d characters.")),
        no_control_characters])


class DossierForm(FlaskForm):
    dossier_code = StringField(filters=[nfc], validators=[
        DataRequired(_l("Enter or scan the dossier code.")),
        Regexp(r"^[A-Za-z0-9][A-Za-z0-9./_-]{0,63}$",
               message=_l("A dossier code has letters, digits, '.', '/', '_' or '-'."))])


class PickForm(FlaskForm):
    """Staff mode with a roster from central: the counter and the officer on duty, picked by id.

    Its choices are the roster's (set by the view); a list central sent empty is not asked.
    """

    counter_id = RadioField(validate_choice=False)
    officer_id = RadioField(validate_choice=False)

    def _picked(self, field, missing):
        offered = {value for value, _label in field.choices}
        if offered and field.data not in offered:
            field.errors = [missing if not field.data else _l("That choice is no longer on the list: choose again.")]
            return False
        return True

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        counter_ok = self._picked(self.counter_id, _l("Choose the counter."))
        return self._picked(self.officer_id, _l("Choose the officer on duty.")) and counter_ok and valid
