"""Signing keys (in the database, for every node): each key's state, and the rotation of
the OIDC keys. The SAML rollover is `idp keys rotate --saml` then `idp keys activate --saml`."""
from __future__ import annotations

import logging

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from ...errors import error_page
from ...keys import KeyChangeConflict
from ...models import StaffRole
from ..signing_keys import oidc_keys, rotate_signing_keys, saml_certificate
from ..staff import actor_name
from . import guard
from .blueprint import bp
from .forms import EmptyForm

log = logging.getLogger(__name__)


@bp.get("/cles")
@guard.roles(*guard.READERS)
def keys():
    return render_template("admin/keys.html", keys=oidc_keys(), saml=saml_certificate(),
                           form=EmptyForm())


@bp.post("/cles/rotation")
@guard.roles(StaffRole.operator)  # auditors read (and the guard refuses them any POST)
def keys_rotate():
    if EmptyForm().validate_on_submit():
        try:
            new = rotate_signing_keys(actor=actor_name(g.staff))
        except KeyChangeConflict as exc:  # another operator or node, the same second
            log.warning("console key rotation not made: %s", exc)
            return error_page(409, _("Action impossible"),
                              _("La demande n'a pas pu être traitée."))
        flash(_("Nouvelles clés actives : %(kids)s. Les anciennes clés publiques restent "
                "publiées pendant la période de grâce.", kids=", ".join(k["kid"] for k in new)),
              "info")
    return redirect(url_for("admin.keys"))
