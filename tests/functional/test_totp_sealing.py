"""TOTP secrets sealed with IDP_TOTP_SEALING_KEYS: a secret sealed under a former key still
verifies while that key is listed, `idp secrets reseal-totp` moves every secret (families'
and staff's) under the first key, and secrets sealed by earlier versions (a key derived
from IDP_SECRET_KEY) keep working through `idp secrets legacy-totp-key`. A secret no key
opens is never overwritten: the family's second factor is never lost."""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet
from sqlalchemy import select, update

from idp.db import db
from idp.models import SecondFactor, StaffAccount
from idp.secret_settings import new_fernet_key
from idp.security import totp

from ..support.admin import console_sign_in
from ..support.browser import Browser
from ..support.cli import run_idp, run_json

VERIFY = "/connexion/verification"


def signs_in_with_a_code(app, account) -> bool:
    """A password and TOTP sign-in at the IdP, through the real pages."""
    seen: list[str] = []
    page = Browser(app.test_client()).sign_in(account, steps=True, seen=seen)
    return VERIFY in seen and page.status_code == 200 and page.request.path == "/"


def sealed_of(app, account_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(SecondFactor.sealed_secret)
                                 .where(SecondFactor.account_id == account_id))


def opens(app, sealed: str) -> str | None:
    with app.app_context():
        return totp.unseal(sealed)


def test_a_former_sealing_key_still_verifies_and_reseal_moves_every_secret(app, settings,
                                                                           node, make):
    former, new = settings["TOTP_SEALING_KEYS"], new_fernet_key()
    account = make.account(with_second_factor=True)
    staff = make.staff()
    both, new_only = node(TOTP_SEALING_KEYS=f"{new},{former}"), node(TOTP_SEALING_KEYS=new)
    assert opens(new_only, sealed_of(app, account.id)) is None  # sealed under the former

    assert signs_in_with_a_code(both, account)  # new key first, the former still opens
    report = run_json({**settings, "TOTP_SEALING_KEYS": f"{new},{former}"},
                      "secrets", "reseal-totp")
    assert report == {"resealed": 2, "unchanged": 0, "unreadable": []}
    assert opens(new_only, sealed_of(app, account.id)) == account.totp_secret
    assert opens(app, sealed_of(app, account.id)) is None  # the former key alone: no more

    assert signs_in_with_a_code(new_only, account)
    assert console_sign_in(Browser(new_only.test_client()), staff).request.path == "/admin/"
    again = run_json({**settings, "TOTP_SEALING_KEYS": new}, "secrets", "reseal-totp")
    assert again == {"resealed": 0, "unchanged": 2, "unreadable": []}


def former_seal(secret_key: str, totp_secret: str) -> str:
    """How earlier versions sealed (idp/security/totp.py before TOTP_SEALING_KEYS)."""
    key = hashlib.sha256(b"totp-seal|" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key)).encrypt(totp_secret.encode()).decode()


def test_secrets_sealed_by_earlier_versions_open_with_the_legacy_key(app, settings, node,
                                                                     make):
    account = make.account(with_second_factor=True)
    staff = make.staff()
    with app.app_context():
        old = former_seal(settings["SECRET_KEY"], account.totp_secret)
        db.session.execute(update(SecondFactor).where(SecondFactor.account_id == account.id)
                           .values(sealed_secret=old))
        db.session.execute(update(StaffAccount).where(StaffAccount.identifier == staff.identifier)
                           .values(totp_secret_sealed=former_seal(settings["SECRET_KEY"],
                                                                  staff.secret)))
        db.session.commit()
    new = new_fernet_key()

    # Without the legacy key nothing opens them; re-sealing leaves them untouched and
    # says which, in one line, exit 1.
    refused = run_idp({**settings, "TOTP_SEALING_KEYS": new}, "secrets", "reseal-totp",
                      expect_ok=False)
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("error: 2 TOTP secret(s) open with none of "
                                     "IDP_TOTP_SEALING_KEYS and were left as they are")
    assert f"account {account.id}" in refused.stderr
    assert sealed_of(app, account.id) == old

    legacy = run_idp(settings, "secrets", "legacy-totp-key").stdout.strip()
    with_legacy = node(TOTP_SEALING_KEYS=f"{new},{legacy}")
    assert signs_in_with_a_code(with_legacy, account)
    report = run_json({**settings, "TOTP_SEALING_KEYS": f"{new},{legacy}"},
                      "secrets", "reseal-totp")
    assert report == {"resealed": 2, "unchanged": 0, "unreadable": []}

    new_only = node(TOTP_SEALING_KEYS=new)
    assert signs_in_with_a_code(new_only, account)
    assert console_sign_in(Browser(new_only.test_client()), staff).request.path == "/admin/"


def test_the_legacy_key_covers_the_secret_and_each_fallback(settings):
    fallback = "f" * 40
    keys = run_json({**settings, "SECRET_KEY_FALLBACKS": fallback},
                    "secrets", "legacy-totp-key")["keys"]
    assert len(keys) == 2
    assert Fernet(keys[1]).decrypt(former_seal(fallback, "JBSWY3DPEHPK3PXP").encode()) \
        == b"JBSWY3DPEHPK3PXP"
