"""Form fields that several journeys ask for, declared once so their labels, limits,
browser hints and French messages stay the same everywhere (activation, recovery, account,
sign-up, FranceConnect's first link).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from wtforms import PasswordField, SelectField, StringField, TelField
from wtforms.validators import InputRequired, Length, ValidationError

from ..security.mobile_numbers import INDICATIFS, MobileNumberError, parse_mobile

PasswordPolicy = Callable[[str], Iterable[str]]
MISMATCH = _l("Les deux mots de passe ne sont pas identiques.")


def new_password_pair(informal: bool = False) -> tuple[PasswordField, PasswordField]:
    """"Nouveau mot de passe" typed twice (the policy is checked by the journey's service,
    which knows the identifier and names the password must not contain). `informal`: the
    messages say "tu", for a pupil's page."""
    password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[InputRequired(_l("Choisis un nouveau mot de passe.") if informal
                                  else _l("Choisissez un nouveau mot de passe.")),
                    Length(max=1024)],
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("Confirme le nouveau mot de passe") if informal
        else _l("Confirmez le nouveau mot de passe"),
        validators=[InputRequired(_l("Saisis à nouveau le nouveau mot de passe.") if informal
                                  else _l("Saisissez à nouveau le nouveau mot de passe.")),
                    Length(max=1024)],
        render_kw={"autocomplete": "new-password"})
    return password, confirm


class NewPasswordTwice:
    """Mixin for a form that asks for a new password twice (fields `password` and
    `password_confirm`): after the fields' own validators, the journey's policy, then the
    confirmation, each message beside its field.

    The policy is a collaborator passed to the constructor (`policy=`): a callable giving
    the French problems of a password; the journey's service knows the identifier, names
    and birth dates the password must not contain. `is_current=` (typed -> it is the
    account's password now): once everything else passes, the same password is refused
    beside the field ("Mon compte", a forced change; never a reset, where it would be an
    oracle for whoever holds the link). Two historical placements are kept as class
    attributes: where the "differ" message goes (`mismatch_field`), and whether the
    rules wait for every field to pass (`rules_wait_for_all_fields`) or only the password.
    """

    mismatch_field = "password_confirm"
    rules_wait_for_all_fields = False
    # True: the rules the password breaks and a confirmation that differs are said together
    # (one round instead of two).
    all_problems_at_once = False

    # The messages this mixin adds say "tu" (a pupil's page).
    informal = False

    def __init__(self, *args, policy: PasswordPolicy | None = None,
                 is_current: Callable[[str], bool] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.password_policy = policy
        self.is_current = is_current

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.rules_wait_for_all_fields and not valid:
            return False
        return self.check_new_password() and valid

    def check_new_password(self) -> bool:
        """The policy, then the confirmation, then "not the current password"; True when
        none adds an error (also when the password field already failed: its own message
        says enough)."""
        password = self.password
        if not password.data or password.errors:
            return True
        problems = [str(p) for p in self.password_policy(password.data)] \
            if self.password_policy is not None else []
        if problems:
            password.errors = list(password.errors) + problems
            if not self.all_problems_at_once:
                return False
        if password.data != self.password_confirm.data:
            field = self[self.mismatch_field]
            field.errors = list(field.errors) + [str(MISMATCH)]
            return False
        return not problems and self.differs_from_current()

    def differs_from_current(self) -> bool:
        """False, with the message beside the field, when the new password is the
        account's current one."""
        if self.is_current is None or not self.is_current(self.password.data):
            return True
        self.password.errors = list(self.password.errors) + [str(self.same_as_current())]
        return False

    def same_as_current(self):
        return (_l("Choisis un mot de passe différent du mot de passe actuel.") if self.informal
                else _l("Choisissez un mot de passe différent du mot de passe actuel."))


class MobileNumber:
    """A French or overseas mobile number, replaced by its E.164 form when valid."""

    def __call__(self, form, field):
        try:
            field.data = parse_mobile(field.data)
        except MobileNumberError as exc:
            raise ValidationError(exc.message) from None


class MobileValid:
    """A mobile number read with the form's `region` (its "Indicatif"): once valid, its
    E.164 form is set on the form as `e164`, what was typed stays in the field."""

    def __call__(self, form, field):
        if field.data:
            try:
                form.e164 = parse_mobile(field.data, form.region.data)
            except MobileNumberError as exc:
                raise ValidationError(exc.message) from None


def region_and_mobile_fields() -> tuple[SelectField, StringField]:
    """"Indicatif" and "N° de téléphone portable", the number the school holds (sign-up's
    identity page, FranceConnect's first link): declare them as `region` and `phone`, with
    `e164: str | None = None` on the form."""
    region = SelectField(_l("Indicatif"), choices=[(code, f"{label} ({prefix})")
                                                   for code, prefix, label in INDICATIFS],
                         default="FR", validate_choice=False)
    phone = StringField(
        _l("N° de téléphone portable"),
        validators=[InputRequired(_l("Saisissez votre numéro de téléphone portable.")),
                    Length(max=30, message=_l("Numéro trop long.")), MobileValid()],
        render_kw={"autocomplete": "tel-national", "inputmode": "tel", "type": "tel"})
    return region, phone


def mobile_phone_field(label, required_message) -> TelField:
    return TelField(label, validators=[InputRequired(required_message),
                                       Length(max=30, message=_l("Numéro trop long.")),
                                       MobileNumber()],
                    render_kw={"autocomplete": "tel", "inputmode": "tel"})


def sms_code_error(reason: str, left: int, informal: bool = False) -> str:
    """What to say beside an SMS code field when the code does not open the door
    (security/sms_codes.CodeProblem: wrong, with `left` tries, expired, dead, unknown);
    `informal`: "tu", for a pupil."""
    if reason == "wrong":
        return ngettext("Code incorrect. Il te reste %(num)d essai.",
                        "Code incorrect. Il te reste %(num)d essais.", left) if informal \
            else ngettext("Code incorrect. Il vous reste %(num)d essai.",
                          "Code incorrect. Il vous reste %(num)d essais.", left)
    if reason == "expired":
        return _("Ce code a expiré. Clique sur « Renvoyer le SMS » pour en recevoir un "
                 "nouveau.") if informal else _("Ce code a expiré. Cliquez sur « Renvoyer "
                                                "le SMS » pour en recevoir un nouveau.")
    if reason == "dead":
        return _("Trop d'essais : ce code ne fonctionne plus. Clique sur « Renvoyer le SMS » "
                 "pour en recevoir un nouveau.") if informal else _(
            "Trop d'essais : ce code ne fonctionne plus. Cliquez sur « Renvoyer le SMS » "
            "pour en recevoir un nouveau.")
    return _("Ce code n'est plus valable. Clique sur « Renvoyer le SMS » pour en recevoir "
             "un nouveau.") if informal else _("Ce code n'est plus valable. Cliquez sur "
                                               "« Renvoyer le SMS » pour en recevoir un "
                                               "nouveau.")


def sms_code_field(informal: bool = False) -> StringField:
    """`informal`: the message says "tu", for a pupil's page."""
    return StringField(
        _l("Code reçu par SMS"),
        validators=[InputRequired(_l("Saisis le code à 6 chiffres reçu par SMS.") if informal
                                  else _l("Saisissez le code à 6 chiffres reçu par SMS.")),
                    Length(max=20, message=_l("Le code compte 6 chiffres."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
