"""TOTP secrets moved under the first sealing key (`idp secrets reseal-totp`, audited).

IDP_TOTP_SEALING_KEYS lists Fernet keys: the first seals, all open. Rotating it: put a
new key first on every node, re-seal, then drop the former keys. Both kinds of TOTP
secret are re-sealed: families' optional second factors and staff accounts' mandatory
ones. A secret no configured key opens is left exactly as it was and named in the
report: the key it was sealed with can still be added, so no second factor is lost.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select, update

from ..audit import record
from ..db import db
from ..models import SecondFactor, StaffAccount
from ..security import totp

BATCH = 500
# (table, its key column, its sealed column, how the report names a row)
_SEALED = ((SecondFactor.__table__, "account_id", "sealed_secret", "account"),
           (StaffAccount.__table__, "id", "totp_secret_sealed", "staff account"))


def reseal_totp_secrets(*, actor: str) -> dict:
    """Re-seal every TOTP secret not yet under the first key; flushes, never commits.
    {"resealed": n, "unchanged": n, "unreadable": ["account 12", ...]}."""
    report: dict = {"resealed": 0, "unchanged": 0, "unreadable": []}
    for table, key, column, label in _SEALED:
        row_key, sealed = table.c[key], table.c[column]
        # Only where the secret is still the one read: an enrolment meanwhile wins.
        change = (update(table)
                  .where(row_key == bindparam("row_key"), sealed == bindparam("before"))
                  .values({column: bindparam("after")}))
        last = None
        while True:
            query = select(row_key, sealed).where(sealed.is_not(None)).order_by(row_key)
            if last is not None:
                query = query.where(row_key > last)
            rows = db.session.execute(query.limit(BATCH)).all()
            if not rows:
                break
            changes = []
            for row_id, before in rows:
                after = totp.reseal(before)
                if after is None:
                    report["unreadable"].append(f"{label} {row_id}")
                elif after == before:
                    report["unchanged"] += 1
                else:
                    changes.append({"row_key": row_id, "before": before, "after": after})
            if changes:
                db.session.execute(change, changes)
                report["resealed"] += len(changes)
            last = rows[-1][0]
    record("totp_secrets_resealed", actor=actor, resealed=report["resealed"],
           unchanged=report["unchanged"], unreadable=len(report["unreadable"]))
    return report
