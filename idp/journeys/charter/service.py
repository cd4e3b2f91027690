"""J5 charter of use: the latest published version of the general charter, and of the
charter of the relying party being reached when it has one, must be accepted.

A new version is asked at the next passage through the plan (the step is re-checked on
every gated request), so nothing is issued under a charter the family has not seen.
"""
from __future__ import annotations

from sqlalchemy import select

from ...audit import record
from ...db import db
from ...models import Account, CharterAcceptance, CharterVersion
from ..standing import forget, standing


def charters_to_accept(account: Account, pending) -> tuple[int, ...]:
    """Ids of the latest version of each applicable charter (the general one, and the
    RP's own when reaching one) the account has not accepted, general first."""
    return standing(account, pending).charters_due


def first_charter_to_accept(account: Account, pending) -> CharterVersion:
    """The charter to show now (its text is loaded here, not on every gated request)."""
    return db.session.get(CharterVersion, charters_to_accept(account, pending)[0])


def wording(charter: CharterVersion, pupil: bool) -> str:
    """The text of this version as shown: the pupils' "tu" wording when the account is a
    pupil's and the version has one, else the common text (the same version either way)."""
    return charter.pupil_body if pupil and charter.pupil_body else charter.body


def is_needed(ctx) -> bool:
    return ctx.account is not None and bool(charters_to_accept(ctx.account, ctx.pending))


def accept(account: Account, charter: CharterVersion) -> None:
    """Record the acceptance of this version (once; a repeat changes nothing)."""
    exists = db.session.scalar(select(CharterAcceptance.id).where(
        CharterAcceptance.account_id == account.id,
        CharterAcceptance.charter_version_id == charter.id))
    if exists is None:
        db.session.add(CharterAcceptance(account_id=account.id, charter_version_id=charter.id))
        db.session.flush()
        record("charter_accepted", actor=account.identifier, target=charter.audience[:128],
               version=charter.version)
    forget()
