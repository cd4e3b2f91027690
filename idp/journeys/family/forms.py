from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ..fields import mobile_phone_field, sms_code_field


class ChildActionForm(FlaskForm):
    """An action on one pupil of "Mes enfants": a POST with its CSRF token (the pupil is
    named by the URL and checked against the representative's links)."""


class CloseAccountForm(FlaskForm):
    """"Fermer mon compte": the box says the family understood what it loses."""
    understood = BooleanField()


class AttachLetterForm(FlaskForm):
    """"Ajouter un enfant" with the other school's letter addressed to the representative."""
    identifier = StringField(
        _l("Identifiant indiqué sur le courrier"),
        validators=[InputRequired(_l("Saisissez l'identifiant du courrier.")),
                    Length(max=64)],
        render_kw={"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"})
    password = PasswordField(
        _l("Mot de passe provisoire du courrier"),
        validators=[InputRequired(_l("Saisissez le mot de passe provisoire du courrier.")),
                    Length(max=200)],
        render_kw={"autocomplete": "off"})


class MergeForm(FlaskForm):
    """"Fusionner deux comptes": the other account's identifier and password."""
    identifier = StringField(
        _l("Identifiant de votre autre compte"),
        validators=[InputRequired(_l("Saisissez l'identifiant de votre autre compte.")),
                    Length(max=64)],
        render_kw={"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"})
    password = PasswordField(
        _l("Mot de passe de votre autre compte"),
        validators=[InputRequired(_l("Saisissez le mot de passe de votre autre compte.")),
                    Length(max=1024)],
        render_kw={"autocomplete": "off"})
    understood = BooleanField()


class AttachPhoneForm(FlaskForm):
    """"Ajouter un enfant" by the number the other school holds."""
    phone = mobile_phone_field(_l("Numéro de téléphone portable connu de l'autre établissement"),
                               _l("Saisissez le numéro de téléphone portable."))


class AttachCodeForm(FlaskForm):
    code = sms_code_field()
