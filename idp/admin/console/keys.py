"""Signing keys: the keyring with each key's state, and the rotation of the OIDC keys."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from ..signing_keys import oidc_keys, rotate_signing_keys, saml_certificate
from ..staff import actor_name
from . import guard
from .blueprint import bp
from .forms import EmptyForm


@bp.get("/cles")
@guard.roles(*guard.READERS)
def keys():
    return render_template("admin/keys.html", keys=oidc_keys(), saml=saml_certificate(),
                           form=EmptyForm())


@bp.post("/cles/rotation")
@guard.roles(*guard.READERS)
def keys_rotate():
    if EmptyForm().validate_on_submit():
        new = rotate_signing_keys(actor=actor_name(g.staff))
        flash(_("Nouvelles clés actives : %(kids)s. Les anciennes clés publiques restent "
                "publiées pendant la période de grâce.", kids=", ".join(k["kid"] for k in new)),
              "info")
    return redirect(url_for("admin.keys"))
