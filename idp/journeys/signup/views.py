"""J4 pages [seed 003]: identity and mobile -> SMS code -> pupils -> password -> identifier.

The identity page begins the transaction bound to this browser (state.py); the others
are the steps of the sign-up sub-plan (plan.py), served through the engine's step
contract: a page reached out of turn (back button, bookmark) sends the family to the
step it is at, with what it typed kept; a form from an older transaction is refused
with a clear page.
"""
from __future__ import annotations

import secrets
from functools import partial

from flask import (Blueprint, flash, jsonify, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _

from ...db import db
from ...languages import current_locale
from ...models import Account
from ...security.sms_codes import SmsCodeError
from ...signin.gate import allow
from ...signin.steps import step_page
from ...signin.session import current_account
from .. import birth_dates, sms_steps
from ..new_device import service as new_device
from ..transactions import browser_owner
from . import service
from .forms import IdentityForm, PasswordForm, pupils_form_class
from .matching import MatchOutcome
from .messages import refusal_message
from .plan import SIGNUP
from .state import SignupTransaction, StopReason, claim_attempt
from .strength import RULES, evaluate

bp = Blueprint("signup", __name__, url_prefix="/inscription")
allow("signup.start", "signup.code", "signup.resend", "signup.pupils", "signup.password",
      "signup.done", "signup.stopped", "signup.password_verdict")


def _go(tx: SignupTransaction):
    """To the page of the step the transaction is at."""
    return SIGNUP.resume(tx)


def _page(name: str, tx: SignupTransaction | None, status: int = 200, **context):
    return render_template(f"signup/{name}.html", tx=tx,
                           binding=SIGNUP.binding(tx) if tx else None, **context), status


@bp.route("", methods=["GET", "POST"])
def start():
    """Step 1: "Je confirme mon identité" and the mobile number the school holds."""
    tx = SignupTransaction.current()
    if tx is not None and tx.step == "done":
        return _go(tx)
    if current_account() is not None:
        return redirect(url_for("signin.resume"))
    form = IdentityForm()
    ongoing = tx if tx is not None and tx.step in ("code", "pupils", "password") else None
    if not form.is_submitted():
        browser_owner()
        form.attempt.data = secrets.token_urlsafe(16)
        if ongoing is not None:  # "Précédent" or the back button: what was typed is here
            form.last_name.data, form.first_name.data = ongoing.last_name, ongoing.first_name
            form.phone.data, form.region.data = ongoing.raw_phone, ongoing.region
        return _page("identity", ongoing, form=form)
    if not form.validate_on_submit():
        return _page("identity", ongoing, 400, form=form)
    if ongoing is not None and ongoing.same_details(form.first_name.data, form.last_name.data,
                                                    form.e164):
        return _go(ongoing)  # submitted again unchanged: carry on, no second SMS
    new = SignupTransaction(owner=browser_owner(), first_name=form.first_name.data,
                            last_name=form.last_name.data, phone=form.e164,
                            raw_phone=form.phone.data, region=form.region.data,
                            outcome=MatchOutcome.none)
    claimed = claim_attempt(form.attempt.data, new.id)
    if claimed != new.id:  # a double submit of this page: the first one decides
        session[SignupTransaction.SESSION_KEY] = claimed
        return redirect(url_for("signup.code"))
    outcome = service.begin(new, current_locale())
    if not outcome.sent:
        form.phone.errors = list(form.phone.errors) + [refusal_message(outcome)]
        return _page("identity", ongoing, 429, form=form)
    return redirect(url_for("signup.code"))


@bp.route("/code", methods=["GET", "POST"])
@step_page("code", plan=SIGNUP)
def code(tx):
    """Step 2: the security code received by SMS, and "Renvoyer le SMS"."""
    return sms_steps.enter_code(tx, page=_page, verify=service.verify_code, done=_go,
                                refused=_double_submit)


def _double_submit(exc: SmsCodeError):
    """A code refused as unknown while the transaction moved on: a double submit, the
    first one went through; to where it is."""
    fresh = SignupTransaction.current()
    if exc.reason == "unknown" and fresh is not None and fresh.step != "code":
        return _go(fresh)
    return None


@bp.post("/code/renvoyer")
@step_page("code", plan=SIGNUP)
def resend(tx):
    return sms_steps.resend_code(tx, send=service.resend, code_endpoint="signup.code",
                                 invalid=_go)


def _pupils_page(tx, form, pupils, status=200):
    rows = [(n, p, form[f"link_{n}"], form[f"day_{n}"], form[f"month_{n}"], form[f"year_{n}"])
            for n, p in enumerate(pupils)]
    return _page("pupils", tx, status, form=form, rows=rows)


def _back_from_password(tx) -> bool:
    return tx.step == "password"  # "Précédent": the answers can still be changed


@bp.route("/eleves", methods=["GET", "POST"])
@step_page("pupils", on_demand=_back_from_password, plan=SIGNUP)
def pupils(tx):
    """Step 3: for each pupil linked to the phone, the link and the birth date."""
    listed = service.pupils_of(tx)
    form = pupils_form_class(len(listed))(
        pupils=listed, matches=birth_dates.matches,
        count_failure=partial(service.count_birth_date_failure, tx))
    if not form.is_submitted():
        for n, p in enumerate(listed):  # back from the password page: answers kept
            if str(p.id) in tx.answers:
                form[f"link_{n}"].data = tx.answers[str(p.id)]
                for part, value in zip(("day", "month", "year"), tx.dates.get(str(p.id), [])):
                    form[f"{part}_{n}"].data = value
        return _pupils_page(tx, form, listed)
    if not form.validate_on_submit():
        if form.no_tries_left:
            return _go(tx)
        return _pupils_page(tx, form, listed, 400)
    service.accept_pupils(tx, listed, form.answers, form.dates)
    return _go(tx)


def _password_page(tx, form, status=200, evaluation=None):
    form.password.data = form.password_confirm.data = ""  # never sent back
    return _page("password", tx, status, form=form, rules=RULES,
                 evaluation=evaluation or evaluate(""))


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@step_page("password", plan=SIGNUP)
def password(tx):
    """Step 4: the password, twice; then the account is made and signed in."""
    form = PasswordForm(policy=lambda typed: service.password_problems(
        tx, service.pupils_of(tx), typed))
    if not form.is_submitted():
        return _password_page(tx, form)
    valid = form.validate_on_submit()
    typed = form.password.data or ""
    if not valid:
        return _password_page(tx, form, 400, evaluate(typed, refused=bool(form.password.errors)))
    try:
        account = service.create_account(tx, typed, current_locale())
    except service.AlreadyRegistered:
        return _lost_race()
    new_device.sign_in_here(account, notify=False)  # made just now: nobody to warn
    tx.rebind()
    tx.step, tx.account_id, tx.identifier = "done", account.id, account.identifier
    tx.save()
    return redirect(url_for("signup.done"))


def _lost_race():
    """Another request made the account first: this browser's own double submit (then
    its transaction is done), or another browser (then the identifier goes by SMS)."""
    tx = SignupTransaction.current()
    if tx is not None and tx.step != "password":
        return _go(tx)
    identifier = service.identifier_after_race(tx)
    if identifier:
        service.send_identifier(tx, identifier, current_locale())
    tx.stop(StopReason.already)
    return _go(tx)


@bp.get("/compte-active")
@step_page("done", plan=SIGNUP)
def done(tx):
    """"Votre compte a été activé avec succès": the identifier to note down."""
    account = db.session.get(Account, tx.account_id)
    if account is None:  # the request that made it failed before its commit
        tx.step = "password"
        tx.save()
        flash(_("Votre compte n'a pas pu être enregistré. Choisissez à nouveau votre mot de "
                "passe."), "info")
        return _go(tx)
    return _page("done", tx, identifier=account.identifier)


@bp.get("/arret")
@step_page("stopped", plan=SIGNUP)
def stopped(tx):
    """The journey cannot go on: what happened and whom to ask."""
    status = 403 if tx.stop_reason is StopReason.birth_dates else 200
    return _page("stopped", tx, status, reason=tx.stop_reason)


@bp.post("/mot-de-passe/verdict")
def password_verdict():
    """The strength meter's verdict for the password being typed (static/js/password-
    strength.js asks it once the rules are met): the server's own evaluation, so the page
    says what a submit would say, common and leaked passwords included. POST with the
    page's CSRF token (X-CSRFToken): the password never travels in a URL or a log."""
    body = request.get_json(silent=True)
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(password, str) or len(password) > 1024:
        return jsonify(error="password expected"), 400
    verdict = evaluate(password)
    return jsonify(level=verdict.level, label=verdict.label, score=verdict.score)
