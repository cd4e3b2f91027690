"""The sign-up journey's sentences that depend on an outcome (SMS limits, code errors)."""
from __future__ import annotations

from flask_babel import gettext as _, ngettext

from ...security.sms_codes import CodeProblem, Refusal, SendOutcome, SmsCodeError


def delay_text(seconds: int) -> str:
    """'30 secondes', '2 minutes', '24 heures'."""
    if seconds < 50:  # the store rounds down: 59 s left of a minute reads "1 minute"
        return ngettext("%(num)d seconde", "%(num)d secondes", max(seconds, 1))
    if seconds < 3600:
        return ngettext("%(num)d minute", "%(num)d minutes", -(-seconds // 60))
    return ngettext("%(num)d heure", "%(num)d heures", -(-seconds // 3600))


def refusal_message(outcome: SendOutcome) -> str:
    """Why no SMS now, and when to try again (the same for every number: no hint of
    whether the details matched)."""
    if outcome.reason is Refusal.wait:
        return _("Un SMS vient d'être envoyé à ce numéro. Vous pourrez en demander un autre "
                 "dans %(delay)s.", delay=delay_text(outcome.retry_after))
    if outcome.reason is Refusal.number:
        return _("Ce numéro a reçu trop de SMS aujourd'hui. Réessayez demain ou contactez "
                 "l'établissement.")
    if outcome.reason is Refusal.ip:
        return _("Trop de demandes ont été faites depuis votre connexion. Réessayez dans "
                 "%(delay)s.", delay=delay_text(outcome.retry_after))
    return _("L'envoi de SMS est momentanément suspendu. Réessayez plus tard.")


def code_error(exc: SmsCodeError) -> str:
    """What to say beside the code field."""
    if exc.reason is CodeProblem.wrong and exc.attempts_left:
        return ngettext("Ce code n'est pas le bon. Vérifiez le SMS et saisissez-le à nouveau. "
                        "Il reste %(num)d essai.",
                        "Ce code n'est pas le bon. Vérifiez le SMS et saisissez-le à nouveau. "
                        "Il reste %(num)d essais.", exc.attempts_left)
    if exc.reason in (CodeProblem.wrong, CodeProblem.dead):
        # Worded for the default SMS_CODE_MAX_ATTEMPTS (3), as translated.
        return _("Ce code ne fonctionne plus après 3 erreurs. Demandez un nouveau code avec "
                 "« Renvoyer le SMS ».")
    if exc.reason is CodeProblem.expired:
        return _("Ce code a expiré. Demandez un nouveau code avec « Renvoyer le SMS ».")
    return _("Aucun code en cours pour ce numéro. Demandez un nouveau code avec « Renvoyer "
             "le SMS ».")
