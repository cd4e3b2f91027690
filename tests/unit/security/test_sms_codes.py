"""SMS security codes (idp/security/sms_codes.py) against the real store and database:
hashed, bound, single use, three tries, expiry, and every sending limit."""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from idp.db import db
from idp.models import OutboxMessage
from idp.security import sms_codes
from idp.security.mobile_numbers import MobileNumberError, parse_mobile
from idp.security.sms_codes import SmsCodeError, check_code, send_code, withhold_code
from idp.store import StoreUnavailable

PHONE = "+33612345678"
OTHER = "+33798765432"


@contextmanager
def settings(app, **values):
    saved = {k: app.config[k] for k in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(saved)


@pytest.fixture
def ctx(app):
    """A request from 203.0.113.7, committed at the end like a real request."""
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        yield
        db.session.commit()


def sent_codes(phone: str = PHONE) -> list[str]:
    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.recipient == phone).order_by(OutboxMessage.id)).all()
    return [m.group(0) for m in (re.search(r"\b\d{6}\b", r.text) for r in rows) if m]


def send(phone=PHONE, tx="tx-1", purpose="signup"):
    return send_code(phone=phone, purpose=purpose, transaction=tx)


def check(code, phone=PHONE, tx="tx-1", purpose="signup"):
    return check_code(phone=phone, purpose=purpose, transaction=tx, code=code)


def reason(code, **kwargs) -> str:
    with pytest.raises(SmsCodeError) as exc:
        check(code, **kwargs)
    return exc.value.reason


def test_a_code_is_six_digits_in_french_and_works_once(app, ctx):
    outcome = send()
    assert outcome.sent and outcome.retry_after == 30
    message = db.session.scalar(select(OutboxMessage))
    assert message.channel == "sms" and message.recipient == PHONE
    assert "est votre code de sécurité Connexion Scolarité pour créer votre compte" in message.text
    assert "Valable 10 min" in message.text
    code = sent_codes()[0]
    assert check(code) is None
    assert reason(code) == "unknown"  # used up


def test_the_code_is_stored_only_as_a_keyed_hash(app, ctx):
    import hashlib

    send()
    code = sent_codes()[0]
    stored = app.extensions["idp"]["store"].get("smscode:signup:tx-1")
    assert code not in str(stored)
    assert hashlib.sha256(code.encode()).hexdigest() not in str(stored)


def test_spaces_hyphens_and_full_width_digits_are_accepted(app, ctx):
    with settings(app, SMS_RESEND_SECONDS=0):
        for n, typed in enumerate(("{} {}", " {}-{} ", "{}\u00a0{}")):
            send(tx=f"t{n}")
            code = sent_codes()[-1]
            check(typed.format(code[:3], code[3:]), tx=f"t{n}")
        send(tx="wide")
    code = sent_codes()[-1]
    check("".join(chr(0xFF10 + int(d)) for d in code), tx="wide")


def test_three_wrong_entries_kill_the_code(app, ctx):
    send()
    code = sent_codes()[0]
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(SmsCodeError) as first:
        check(wrong)
    assert (first.value.reason, first.value.attempts_left) == ("wrong", 2)
    assert reason("12345") == "wrong"      # malformed entries count too
    assert reason(wrong) == "dead"
    assert reason(code) == "dead"          # even the right one, now


def test_concurrent_guesses_get_no_more_than_three_tries(app):
    with app.test_request_context("/"):
        send()
        db.session.commit()
    results = []

    def guess(n):
        with app.test_request_context("/"):
            try:
                check(f"{n:06d}")
                results.append("ok")
            except SmsCodeError as exc:
                results.append(exc.reason)
            db.session.commit()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("wrong") + results.count("ok") <= 2
    assert results.count("dead") >= 10


def test_a_code_expires_after_the_configured_minutes(app, ctx, monkeypatch):
    send(tx="a")
    send(tx="b", phone=OTHER)
    start = sms_codes.clock()
    monkeypatch.setattr(sms_codes, "clock", lambda: start + 9 * 60)
    check(sent_codes()[0], tx="a")
    monkeypatch.setattr(sms_codes, "clock", lambda: start + 10 * 60 + 1)
    assert reason(sent_codes(OTHER)[0], tx="b", phone=OTHER) == "expired"


def test_validity_is_a_setting(app, ctx, monkeypatch):
    with settings(app, SMS_CODE_MINUTES=30):
        send()
        assert "Valable 30 min" in db.session.scalar(select(OutboxMessage)).text
        start = sms_codes.clock()
        monkeypatch.setattr(sms_codes, "clock", lambda: start + 29 * 60)
        check(sent_codes()[0])


def test_a_code_is_bound_to_phone_purpose_and_transaction(app, ctx):
    send()
    code = sent_codes()[0]
    assert reason(code, phone=OTHER) == "unknown"
    assert reason(code, tx="tx-2") == "unknown"
    assert reason(code, purpose="password_reset") == "unknown"
    check(code)


def test_a_new_code_replaces_the_old_one(app, ctx):
    with settings(app, SMS_RESEND_SECONDS=0):
        send()
        send()
    old, new = sent_codes()
    if old != new:
        assert reason(old) == "wrong"
    check(new)


def test_the_wait_between_sms_to_a_number_doubles(app, ctx):
    s = app.extensions["idp"]["store"]
    assert send().retry_after == 30
    refused = send(tx="again")
    assert (refused.sent, refused.reason) == (False, "wait") and 25 <= refused.retry_after <= 30
    s.delete(sms_codes.wait_key(PHONE, "signup"))   # what 30 seconds would do
    assert send(tx="again").retry_after == 60
    s.delete(sms_codes.wait_key(PHONE, "signup"))
    assert send(tx="again").retry_after == 120
    assert send(phone=OTHER).retry_after == 30  # per number
    assert len(sent_codes()) == 3


def test_daily_cap_per_number(app, ctx):
    with settings(app, SMS_RESEND_SECONDS=0, SMS_MAX_PER_NUMBER_DAY=3):
        assert [send(tx=f"t{i}").sent for i in range(4)] == [True, True, True, False]
        refused = send(tx="t9")
        assert refused.reason == "number" and refused.retry_after > 80000
        assert send(phone=OTHER).sent
    assert len(sent_codes()) == 3


def test_hourly_cap_per_ip(app):
    numbers = [f"+3361234560{i}" for i in range(5)]
    with settings(app, SMS_MAX_PER_IP_HOUR=3):
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": "198.51.100.1"}):
            outcomes = [send(phone=n) for n in numbers[:4]]
            assert [o.sent for o in outcomes] == [True, True, True, False]
            # Slowed, not shut (issue 17): the next SMS from this address in a second.
            assert outcomes[-1].reason == "ip" and outcomes[-1].retry_after == 1
            db.session.commit()
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": "198.51.100.2"}):
            assert send(phone=numbers[4]).sent


def test_global_daily_cap(app, ctx):
    with settings(app, SMS_MAX_PER_DAY=2):
        assert [send(phone=f"+3361234560{i}").sent for i in range(3)] == [True, True, False]
        assert send(phone=OTHER).reason == "global"


def test_withheld_codes_count_the_same_and_reach_nobody(app, ctx):
    outcome = withhold_code(phone=PHONE, purpose="signup", transaction="tx-1")
    assert outcome.sent and outcome.retry_after == 30
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert reason("123456") in ("wrong",)
    refused = withhold_code(phone=PHONE, purpose="signup", transaction="tx-2")
    assert refused.reason == "wait"  # the same limits as a real send


def test_a_stand_in_meets_every_limit_of_a_number_and_reaches_nobody(app, ctx):
    """No phone at all (a password reset for an identifier without a mobile): the
    stand-in takes the number's place in every limit, and nothing is queued."""
    def withhold(tx, what="m.durand"):
        return withhold_code(stand_in=what, purpose="password_reset", transaction=tx)

    first = withhold("tx-1")
    assert first.sent and first.retry_after == 30
    assert withhold("tx-2").reason == "wait"
    with settings(app, SMS_RESEND_SECONDS=0, SMS_MAX_PER_NUMBER_DAY=2, SMS_MAX_PER_DAY=4):
        assert [withhold(f"tx-{n}", "l.petit").sent for n in (3, 4)] == [True, True]
        assert withhold("tx-5", "l.petit").reason == "number"
        assert withhold("tx-6", "c.roux").sent  # per stand-in, like per number
        assert withhold("tx-7", "a.bernard").reason == "global"  # the same budget
    assert db.session.scalars(select(OutboxMessage)).all() == []
    with pytest.raises(ValueError):
        withhold_code(purpose="password_reset", transaction="tx-8")
    with pytest.raises(ValueError):
        withhold_code(stand_in="m.durand", purpose="signup", transaction="tx-9",
                      instead=("signup_existing_account", {}))


def test_withhold_can_send_another_message_instead(app, ctx):
    withhold_code(phone=PHONE, purpose="signup", transaction="tx-1",
                  instead=("signup_existing_account",
                           {"identifier": "m.durand", "login_url": "http://localhost/connexion"}))
    message = db.session.scalar(select(OutboxMessage))
    assert "vous avez déjà un compte" in message.text and "m.durand" in message.text
    assert not re.search(r"\b\d{6}\b", message.text)


def test_codes_go_to_french_mobiles_only(app, ctx):
    for phone in ("+447700900123", "+33899123456", "+33176543210", "+2693212345"):
        with pytest.raises(ValueError):
            send(phone=phone)
    for phone in ("+590690123456", "+262692123456", "+687751234", "+68987123456"):
        assert send(phone=phone).sent


@pytest.mark.parametrize("raw,region,expected", [
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 7 43 12 34 56", "FR", "+33743123456"),
    ("0033612345678", "FR", "+33612345678"),
    ("06.12.34.56.78", "FR", "+33612345678"),
    ("0690 12 34 56", "FR", "+590690123456"),   # overseas number typed nationally
    ("0690123456", "GP", "+590690123456"),
    ("0692 12 34 56", "RE", "+262692123456"),
    ("75 12 34", "NC", "+687751234"),
    ("+689 87 12 34 56", "FR", "+68987123456"),
])
def test_mobile_numbers_parse_to_e164(app, raw, region, expected):
    with app.app_context():
        assert parse_mobile(raw, region) == expected


@pytest.mark.parametrize("raw,why", [
    ("08 99 12 34 56", "premium"),
    ("+33 8 99 12 34 56", "premium"),
    ("+44 7700 900123", "invalid"),
    ("+32 470 12 34 56", "foreign"),
    ("+269 321 23 45", "foreign"),
    ("01 76 54 32 10", "not_mobile"),
    ("06 12", "invalid"),
    ("bonjour", "invalid"),
    ("0" * 40, "invalid"),
])
def test_numbers_refused_with_a_reason(app, raw, why):
    with app.test_request_context("/"):
        with pytest.raises(MobileNumberError) as exc:
            parse_mobile(raw)
        assert exc.value.reason == why and exc.value.message


def test_a_store_outage_propagates(app, ctx, monkeypatch):
    store = app.extensions["idp"]["store"]

    def down(*args, **kwargs):
        raise StoreUnavailable("down")

    monkeypatch.setattr(store, "ttl", down)
    with pytest.raises(StoreUnavailable):
        send()
    monkeypatch.setattr(store, "get", down)
    with pytest.raises(StoreUnavailable):
        check("123456")


def test_another_purpose_is_not_a_resend_but_the_daily_cap_spans_them(app, ctx):
    """Issue 21, point 4: the identifier by SMS, then at once the password-reset code."""
    assert send(purpose="identifier_recovery").sent
    assert send(purpose="identifier_recovery", tx="again").reason == "wait"
    other = send(purpose="password_reset", tx="reset")
    assert other.sent and other.retry_after == 30  # its own wait starts at the base
    assert send(purpose="password_reset", tx="reset").reason == "wait"
    with settings(app, SMS_MAX_PER_NUMBER_DAY=3):
        assert send(purpose="phone_change", tx="p").sent
        assert send(purpose="signup", tx="s").reason == "number"
