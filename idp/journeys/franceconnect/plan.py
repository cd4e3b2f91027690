"""The first link as a sub-plan of the sign-in engine (signin/plan.py), like sign-up's
(journeys/signup/plan.py): its context is this browser's link transaction, each page a
step whose `is_needed` reads where the transaction is, served through `step_page` and
bound with the same binding. FranceConnect's answer begins the transaction; the link
made, the family is signed in and the sign-in plan takes over (charter, preferences,
consent)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ...signin.binding import bind
from ...signin.plan import Plan, Step
from .state import LinkTransaction


class LinkPlan(Plan):
    order = ("phone", "code", "pupils", "password", "stopped")

    def context(self) -> LinkTransaction | None:
        return LinkTransaction.current()

    def unavailable(self, tx):
        if tx is not None:
            return None
        if LinkTransaction.had_expired():
            flash(_("Le temps pour relier FranceConnect à votre compte est écoulé. "
                    "Recommencez avec « S'identifier avec FranceConnect »."), "info")
        return redirect(url_for("login.form"))

    def binding(self, tx: LinkTransaction) -> str:
        return bind("franceconnect", tx.id)

    def resume(self, tx: LinkTransaction):
        return redirect(url_for(self.steps[tx.step].endpoint))

    def refused(self, tx: LinkTransaction, step: str):
        return render_template("signup/stale.html", step_url=url_for(
            self.steps[tx.step].endpoint)), 400


LINK = LinkPlan()


def _at(name: str):
    return lambda tx: tx.step == name


for _name, _endpoint in (("phone", "franceconnect.phone"), ("code", "franceconnect.code"),
                         ("pupils", "franceconnect.pupils"),
                         ("password", "franceconnect.password"),
                         ("stopped", "franceconnect.stopped")):
    LINK.register(Step(_name, _endpoint, _at(_name), bound=_name != "stopped"))
