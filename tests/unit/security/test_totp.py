"""TOTP: current codes pass once, old or replayed codes fail; secrets sealed."""
from __future__ import annotations

import pyotp

from idp.security import totp


def test_a_current_code_passes_once(app):
    with app.app_context():
        secret = totp.new_secret()
        code = pyotp.TOTP(secret).now()
        assert totp.verify(secret, code, replay_key="acct-1")
        assert not totp.verify(secret, code, replay_key="acct-1")  # replay refused


def test_spaces_are_ignored_and_stale_codes_refused(app):
    with app.app_context():
        secret = totp.new_secret()
        now = 1_800_000_000
        code = pyotp.TOTP(secret).at(now)
        assert totp.verify(secret, code[:3] + " " + code[3:], replay_key="a", now=now)
        old = pyotp.TOTP(secret).at(now - 300)
        assert not totp.verify(secret, old, replay_key="b", now=now)
        assert not totp.verify(secret, "12345", replay_key="c", now=now)
        assert not totp.verify(secret, None, replay_key="d", now=now)


def test_secret_is_sealed(app):
    with app.app_context():
        secret = totp.new_secret()
        sealed = totp.seal(secret)
        assert secret not in sealed
        assert totp.unseal(sealed) == secret
        assert totp.unseal("garbage") is None


def test_recovery_codes_are_random_and_hashed_loosely(app):
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10 and all(len(c) == 14 for c in codes)
    assert totp.hash_recovery_code(codes[0].upper().replace("-", " ")) == \
        totp.hash_recovery_code(codes[0])


def test_qr_code_is_inline_svg(app):
    with app.app_context():
        svg = totp.qr_svg(totp.provisioning_uri(totp.new_secret(), "p.dupont12"))
        assert svg.startswith("<svg") and "<script" not in svg
