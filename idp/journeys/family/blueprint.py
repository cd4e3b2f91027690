"""The family journey's blueprint, on its own so its view modules share it without
importing each other."""
from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from ...errors import error_page
from ...models import AccountProfile
from ...signin.session import current_account

bp = Blueprint("family", __name__, url_prefix="/compte")


def parent_only():
    """The signed-in representative, or the 403 page for a pupil."""
    account = current_account()
    if account.profile != AccountProfile.parent:
        return None, error_page(403, _("Réservé aux représentants légaux"), _(
            "« Mes enfants » est réservé aux représentants légaux."))
    return account, None
