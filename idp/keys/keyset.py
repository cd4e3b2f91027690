"""The keys in the database and how they change, for every node at once.

- `generate`: a key for each OIDC algorithm and for SAML that has none (first set-up).
- `rotate_oidc`: new RS256 and ES256 keys, published at once, signing SWITCH_SECONDS
  later on every node together (each node reads the change within a second before any
  signs with it); the previous keys sign until then and stay published for
  KEY_GRACE_DAYS, after which a later change deletes them.
- `publish_next_saml` then `activate_saml`: the SAML rollover. SPs pin the certificate
  of our metadata, so the next one is published first (state `next`) and only signs once
  the operator activates it, after SPs have refreshed the metadata.
- `reencrypt`: every row sealed again with the first key-encryption key.

Two nodes changing the keys at once: each change retires the key it read with a
conditional UPDATE (the row lock makes the second wait, then find nothing to retire)
and inserts under a partial unique index (one active and one next key per purpose and
algorithm), so exactly one change wins and the other raises KeyChangeConflict with
nothing written. Services flush, never commit; the version is bumped on commit.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..models import SigningKey, utcnow
from . import material
from .errors import KeyChangeConflict, NoKeysYet
from .sealing import reseal, seal, unseal_all
from .version import changed

SWITCH_SECONDS = 2.0
CONFLICT = "another node changed the signing keys at the same moment; nothing was changed here"


def new_row(kek, purpose: str, alg: str, state: str, now: datetime,
            signs_from: datetime | None, private_key=None, certificate: str | None = None,
            kid: str | None = None) -> SigningKey:
    """A sealed row for a new (or given) private key; SAML rows carry their certificate."""
    key = private_key or material.new_private_key(alg)
    if purpose == "saml":
        public = certificate or material.self_signed_certificate(key)
    else:
        public = material.public_pem(key)
    kid = kid or material.new_kid(purpose, alg, now)
    return SigningKey(kid=kid, purpose=purpose, alg=alg, state=state, public_pem=public,
                      sealed_private=seal(kek, kid=kid, purpose=purpose,
                                          private_pem=material.private_pem(key), public=public),
                      created_at=now, signs_from=signs_from)


def current_keys(session: Session, purpose: str, state: str) -> dict[str, SigningKey]:
    rows = session.scalars(select(SigningKey).where(SigningKey.purpose == purpose,
                                                    SigningKey.state == state))
    return {row.alg: row for row in rows}


def check_key_encryption(session: Session, kek) -> None:
    """Before sealing anything: the configured KEK must open the keys already there (a
    node with a wrong one would write keys no other node can open). KeyEncryptionError."""
    unseal_all(kek, session.scalars(select(SigningKey)).all())


def flush_change(session: Session) -> None:
    """Flush; a unique violation or SQLite's busy snapshot means another node won."""
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise KeyChangeConflict(CONFLICT) from None
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        session.rollback()
        raise KeyChangeConflict(CONFLICT) from None


def _move(session: Session, row: SigningKey, from_state: str, **values) -> None:
    """Change `row` only if it is still in `from_state` (else another node moved it)."""
    try:
        result = session.execute(
            update(SigningKey).where(SigningKey.id == row.id, SigningKey.state == from_state)
            .values(**values), execution_options={"synchronize_session": False})
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        session.rollback()
        raise KeyChangeConflict(CONFLICT) from None
    if result.rowcount != 1:
        session.rollback()
        raise KeyChangeConflict(CONFLICT)


def _prune(session: Session, now: datetime, grace_days: float) -> None:
    """Delete keys retired longer ago than the grace period (no longer published)."""
    session.execute(delete(SigningKey).where(
        SigningKey.state == "retired",
        SigningKey.retired_at < now - timedelta(days=float(grace_days))),
        execution_options={"synchronize_session": False})


def generate(session: Session, kek, now: datetime | None = None) -> list[SigningKey]:
    """An active key for each OIDC algorithm and for SAML that has none; the new rows."""
    now = now or utcnow()
    check_key_encryption(session, kek)
    created = []
    active = current_keys(session, "oidc", "active")
    for alg in material.OIDC_ALGORITHMS:
        if alg not in active:
            created.append(new_row(kek, "oidc", alg, "active", now, signs_from=now))
    if not current_keys(session, "saml", "active"):
        created.append(new_row(kek, "saml", material.SAML_ALGORITHM, "active", now,
                               signs_from=now))
    if created:
        session.add_all(created)
        flush_change(session)
        changed(session)
    return created


def rotate_oidc(session: Session, kek, grace_days: float,
                now: datetime | None = None) -> list[SigningKey]:
    """New OIDC keys, published now, signing from now + SWITCH_SECONDS everywhere."""
    now = now or utcnow()
    switch = now + timedelta(seconds=SWITCH_SECONDS)
    active = current_keys(session, "oidc", "active")
    if not active:
        raise NoKeysYet("no OIDC signing key in the database yet: run `idp keys generate`")
    check_key_encryption(session, kek)
    new = []
    for alg in material.OIDC_ALGORITHMS:  # same order on every node: no deadlock
        if alg in active:
            _move(session, active[alg], "active", state="retired", retired_at=switch)
        new.append(new_row(kek, "oidc", alg, "active", now,
                           signs_from=switch if alg in active else now))
    session.add_all(new)
    flush_change(session)
    _prune(session, now, grace_days)
    changed(session)
    return new


def publish_next_saml(session: Session, kek, now: datetime | None = None) -> SigningKey:
    """A next SAML key and certificate, published in the metadata, not signing yet."""
    now = now or utcnow()
    if not current_keys(session, "saml", "active"):
        raise NoKeysYet("no SAML signing key in the database yet: run `idp keys generate`")
    pending = current_keys(session, "saml", "next")
    if pending:
        row = pending[material.SAML_ALGORITHM]
        raise KeyChangeConflict(
            f"the next SAML certificate {row.kid} is already published (since "
            f"{row.created_at:%Y-%m-%d %H:%M} UTC): `idp keys activate --saml` makes it sign")
    check_key_encryption(session, kek)
    row = new_row(kek, "saml", material.SAML_ALGORITHM, "next", now, signs_from=None)
    session.add(row)
    flush_change(session)
    changed(session)
    return row


def activate_saml(session: Session, kek, grace_days: float,
                  now: datetime | None = None) -> SigningKey:
    """The next SAML key signs from now + SWITCH_SECONDS; the previous one is retired
    (its certificate stays in the metadata for the grace period)."""
    now = now or utcnow()
    switch = now + timedelta(seconds=SWITCH_SECONDS)
    pending = current_keys(session, "saml", "next").get(material.SAML_ALGORITHM)
    if pending is None:
        raise NoKeysYet("no next SAML certificate to activate: `idp keys rotate --saml` "
                        "publishes one first")
    check_key_encryption(session, kek)  # never activate a key the nodes cannot open
    active = current_keys(session, "saml", "active").get(material.SAML_ALGORITHM)
    if active is not None:
        _move(session, active, "active", state="retired", retired_at=switch)
    _move(session, pending, "next", state="active", signs_from=switch)
    _prune(session, now, grace_days)
    changed(session)
    session.expire(pending)
    return pending


def reencrypt(session: Session, kek) -> int:
    """Seal every row again with the first key-encryption key; the number of rows."""
    rows = session.scalars(select(SigningKey)).all()
    for row in rows:
        row.sealed_private = reseal(kek, row.sealed_private)
    if rows:
        flush_change(session)
        changed(session)
    return len(rows)


def published_until(row: SigningKey, grace_days: float) -> datetime | None:
    return row.retired_at + timedelta(days=float(grace_days)) if row.retired_at else None


def listing(session: Session, grace_days: float, now: datetime | None = None) -> list[dict]:
    """Every key, newest first: purpose, kid, alg, state and its dates (ISO, UTC)."""
    now = now or utcnow()
    out = []
    for row in session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc(),
                                                           SigningKey.kid)):
        until = published_until(row, grace_days)
        if until is not None and until < now:
            continue  # no longer published; deleted at the next change
        entry = {"purpose": row.purpose, "kid": row.kid, "alg": row.alg, "state": row.state,
                 "created": _iso(row.created_at), "signs_from": _iso(row.signs_from),
                 "retired": _iso(row.retired_at), "published_until": _iso(until)}
        if row.purpose == "saml":
            entry["certificate"] = material.certificate_facts(row.public_pem)
        out.append(entry)
    return out


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
