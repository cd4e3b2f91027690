"""J4 sign-up as a sub-plan of the sign-in engine (signin/plan.py).

Its context is the sign-up transaction of this browser (state.py); each page is a step
whose `is_needed` reads where the transaction is, served through the same `step_page`
contract and bound with the same binding as the sign-in steps. The identity page begins
the transaction (as a protocol endpoint begins a request); "done" signs the family in,
and the sign-in plan takes over from there.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ...signin.binding import bind
from ...signin.plan import Plan, Step
from .state import SignupTransaction


class SignupPlan(Plan):
    order = ("code", "pupils", "password", "done", "stopped")

    def context(self) -> SignupTransaction | None:
        return SignupTransaction.current()

    def unavailable(self, tx):
        """No transaction here (expired, or never started): back to the first page,
        saying why when it expired."""
        if tx is not None:
            return None
        if SignupTransaction.had_expired():
            flash(_("Votre inscription a expiré (elle doit être terminée en %(n)d minutes). "
                    "Recommencez : vos nom, prénom et numéro sont à saisir à nouveau.",
                    n=int(float(current_app.config["SIGNUP_MINUTES"]))), "info")
        return redirect(url_for("signup.start"))

    def binding(self, tx: SignupTransaction) -> str:
        """A form from an older transaction (another tab, a page kept from before
        "Précédent") does not carry this one's and is never applied to it."""
        return bind("signup", tx.id)

    def resume(self, tx: SignupTransaction):
        return redirect(url_for(self.steps[tx.step].endpoint))

    def refused(self, tx: SignupTransaction, step: str):
        return render_template("signup/stale.html", step_url=url_for(
            self.steps[tx.step].endpoint)), 400


SIGNUP = SignupPlan()


def _at(name: str):
    return lambda tx: tx.step == name


for _name, _endpoint in (("code", "signup.code"), ("pupils", "signup.pupils"),
                         ("password", "signup.password"), ("done", "signup.done"),
                         ("stopped", "signup.stopped")):
    SIGNUP.register(Step(_name, _endpoint, _at(_name), bound=_name in ("code", "pupils",
                                                                       "password")))
