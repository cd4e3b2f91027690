from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...signin import Step, register_step
from ...signin.gate import allow
from ...signin.plan import needs_fresh_login
from ...signin.session import after_logout, end_session
from ...signin.steps import step_done, step_page
from ..signup.messages import delay_text
from ..new_device import service as new_device
from ..wayf.service import current_choice, for_a_pupil
from . import service
from ...signin.forms import LogoutForm
from .forms import LoginForm, PupilLoginForm

bp = Blueprint("login", __name__)


def _is_needed(ctx) -> bool:
    return ctx.account is None or needs_fresh_login(ctx)


register_step(Step("login", "login.form", _is_needed, bound=False))
allow("login.form", "login.logout", "login.logged_out")


def _any_time(ctx) -> bool:
    return True  # signing in again (another member of the family, a shared device)


@bp.route("/connexion", methods=["GET", "POST"])
@step_page("login", on_demand=_any_time)
def form(ctx):
    choice = current_choice(ctx)
    pupil = for_a_pupil(choice)
    login = PupilLoginForm() if pupil else LoginForm()
    if ctx.account is not None and not login.is_submitted() and not needs_fresh_login(ctx) \
            and "changer" not in request.args:
        # Back from the ENT, or /connexion opened again: who is signed in, and the choice
        # to go on with that account or to sign in with another, not an empty form.
        return render_template("login/signed_in.html", account=ctx.account,
                               pending=ctx.pending)
    if not login.is_submitted() and ctx.pending is not None and ctx.pending.login_hint:
        login.identifier.data = ctx.pending.login_hint
    status = 200
    if login.validate_on_submit():
        signed = service.authenticate(login.identifier.data, login.password.data)
        outcome = signed.outcome
        if outcome is service.LoginOutcome.ok:
            new_device.sign_in_here(signed.account)
            return step_done()
        status = 400
        if outcome is service.LoginOutcome.deactivated:  # the password was right
            return render_template("login/deactivated.html",
                                   pupil=signed.account.profile.value == "pupil"), 403
        if outcome is service.LoginOutcome.throttled:
            # The pause authenticate met, not a second read: the delay may end meanwhile.
            wait = delay_text(signed.pause.seconds)
            scope = signed.pause.scope
            if scope == "ip" and pupil:  # the address is slowed: no word about the identifier
                login.password.errors.append(_(
                    "Trop d'essais depuis cette connexion internet : la connexion est "
                    "ralentie. Réessaie dans %(wait)s.", wait=wait))
            elif scope == "ip":
                login.password.errors.append(_(
                    "Trop d'essais depuis cette connexion internet : la connexion est "
                    "ralentie. Réessayez dans %(wait)s.", wait=wait))
            elif pupil:
                login.password.errors.append(_(
                    "Trop d'essais pour cet identifiant : la connexion est suspendue. "
                    "Réessaie dans %(wait)s, ou choisis « Mot de passe oublié ? ».",
                    wait=wait))
            else:
                login.password.errors.append(_(
                    "Trop d'essais pour cet identifiant : la connexion est suspendue. "
                    "Réessayez dans %(wait)s, ou choisissez « Mot de passe oublié ? ».",
                    wait=wait))
            status = 429
        else:
            login.password.errors.append(_("Identifiant ou mot de passe incorrect."))
    elif login.errors:
        status = 400
    login.password.data = ""
    return render_template("login/form.html", form=login, choice=choice,
                           pending=ctx.pending), status


@bp.post("/deconnexion")
def logout():
    if not LogoutForm().validate_on_submit():
        return redirect(url_for("home.index"))
    end_session()
    return after_logout(url_for("login.logged_out"))


@bp.get("/deconnecte")
def logged_out():
    return render_template("login/logged_out.html")
