"""The account pages of a FranceConnected account ("Mon compte"): choose a password of
its own, unlink FranceConnect; and what Mon compte shows of the link."""
from __future__ import annotations

from functools import partial

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...signin.session import current_account
from ..account import credentials, reauth
from ..signup.forms import EmptyForm, PasswordForm
from ..signup.strength import RULES, evaluate
from . import linked
from .blueprint import bp
from .forms import StartForm


def status() -> dict | None:
    """What "Mon compte" shows of FranceConnect (None: not FranceConnected)."""
    account = current_account()
    link = linked.link_of(account)
    if link is None:
        return None
    return {"link": link, "has_password": linked.has_own_password(account, link),
            "unlink_form": EmptyForm()}


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
def choose_password():
    """A password for an account made through FranceConnect (needed to unlink it, or to
    sign in without FranceConnect): FranceConnect itself vouches for the person, within
    the reauthentication window."""
    account = current_account()
    link = linked.link_of(account)
    if link is None or linked.has_own_password(account, link):
        return redirect(url_for("account.change_password"))
    if not reauth.is_recent(reauth.POST_GRACE if request.method == "POST" else 0):
        return render_template("franceconnect/reauth.html", start_form=StartForm(
            purpose="reauth")), 200
    form = PasswordForm(policy=partial(credentials.password_problems, account))
    if form.validate_on_submit():
        credentials.replace_password(account, form.password.data, reason="change")
        flash(_("Votre mot de passe est enregistré : vous pouvez aussi vous connecter avec "
                "votre identifiant %(identifier)s.", identifier=account.identifier),
              "success")
        return redirect(url_for("account.index"))
    evaluation = evaluate(form.password.data or "", refused=bool(form.password.errors))
    form.password.data = form.password_confirm.data = ""  # never sent back
    return render_template("franceconnect/choose_password.html", form=form, rules=RULES,
                           evaluation=evaluation, identifier=account.identifier), \
        400 if form.errors else 200


@bp.route("/compte/delier", methods=["GET", "POST"])
@reauth.require_recent_password("franceconnect.unlink")
def unlink():
    """"Délier FranceConnect", with a password of its own set first."""
    account = current_account()
    shown = status()
    if shown is None:
        return redirect(url_for("account.index"))
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        if linked.unlink(account):
            flash(_("FranceConnect n'est plus relié à votre compte. Connectez-vous désormais "
                    "avec votre identifiant et votre mot de passe."), "success")
        else:
            flash(_("Choisissez d'abord un mot de passe : sans lui, votre compte ne serait "
                    "plus accessible."), "error")
        return redirect(url_for("account.index"))
    return render_template("franceconnect/unlink.html", form=form, status=shown)
