"""The SMS code step that sign-up and FranceConnect's first link share: the code page
("Code de sécurité", "Renvoyer le SMS") and its resend. Each journey keeps its own pieces
at the call site: how it renders a page (its plan's binding), which service checks and
sends the code, where a checked code leads, and what it does with a refused code first
(sign-up recognises a double submit)."""
from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, url_for
from flask_babel import gettext as _

from ..languages import current_locale
from ..security.mobile_numbers import display
from ..security.sms_codes import SendOutcome, SmsCodeError, minutes_text
from .signup.forms import CodeForm, EmptyForm
from .signup.messages import code_error, refusal_message

# page(name, tx, status, **context) -> response: the journey's own page renderer.
Page = Callable[..., object]


def code_page(page: Page, tx, form, status: int = 200):
    """The code page: the form, "Renvoyer le SMS", the number (as displayed) and how long
    a code lasts."""
    return page("code", tx, status, form=form, resend_form=EmptyForm(),
                phone=display(tx.phone), minutes=minutes_text())


def enter_code(tx, *, page: Page, verify: Callable[[object, str], object],
               done: Callable[[object], object],
               refused: Callable[[SmsCodeError], object | None] | None = None):
    """GET shows the code page; POST checks the code with `verify(tx, code)` (raises
    SmsCodeError) and answers `done(tx)`. A refused code is first offered to `refused`
    (an answer, or None to go on); otherwise the page again, the reason beside the field."""
    form = CodeForm()
    if not form.is_submitted():
        return code_page(page, tx, form)
    if not form.validate_on_submit():
        return code_page(page, tx, form, 400)
    try:
        verify(tx, form.code.data)
    except SmsCodeError as exc:
        answer = refused(exc) if refused is not None else None
        if answer is not None:
            return answer
        form.code.errors = list(form.code.errors) + [code_error(exc)]
        return code_page(page, tx, form, 400)
    return done(tx)


def resend_code(tx, *, send: Callable[[object, str], SendOutcome], code_endpoint: str,
                invalid: Callable[[object], object] | None = None):
    """"Renvoyer le SMS": `send(tx, locale)` sends a new code, or says why not, in a flash
    message; then back to `code_endpoint`. A form without its CSRF token sends nothing and
    answers `invalid(tx)` when given (else the code page too)."""
    if not EmptyForm().validate_on_submit():
        return invalid(tx) if invalid is not None else redirect(url_for(code_endpoint))
    outcome = send(tx, current_locale())
    if outcome.sent:
        flash(_("Un nouveau code de sécurité a été envoyé au %(phone)s. Le précédent ne "
                "fonctionne plus.", phone=display(tx.phone)), "success")
    else:
        flash(refusal_message(outcome), "info")
    return redirect(url_for(code_endpoint))
