from __future__ import annotations

from flask import Blueprint, render_template

from ..login.forms import LogoutForm
from ..login.service import current_account
from . import service

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Reached through the gate: the account is signed in and every step is done."""
    account = current_account()
    return render_template("home/index.html", account=account,
                           pupils=service.linked_pupils(account),
                           services=service.reachable_services(), logout_form=LogoutForm())
