"""Merge two representative accounts of one person (issue 20, point 3): signed in on the
account to keep, the family gives the other's identifier and password (both activated,
say two letters from two schools). The other's guardian links, live consents, charter
acceptances and FranceConnect link move to the kept account (what the kept one already
has stays as it is); the other is closed with a tombstone naming the kept account
(own_data.retire: its sessions end with a back-channel logout, its refresh tokens end,
its personal data is erased). The kept account's public id does not change: relying
parties keep seeing the same `sub` and NameID. Audited on both sides.

The other's password is checked under the sign-in throttle (keyed on the identifier
typed), with the same cost and answer for an unknown identifier and a wrong password;
what the other account is (a pupil's, not activated) is said only after its password. An
account with a second factor is not merged on its password alone (its children would go
to whoever knows the password): the family turns the factor off there first.
"""
from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select, update

from ...audit import record
from ...db import db
from ...extensions import passwords, throttle
from ...models import (Account, AccountProfile, AccountState, CharterAcceptance, Consent,
                       FranceConnectLink, GuardianLink, SecondFactor)
from ...security.client_address import client_key
from .locks import lock_accounts
from .own_data import retire


class MergeRefused(StrEnum):
    own = "own"                  # the identifier of the signed-in account itself
    credentials = "credentials"  # unknown identifier or wrong password (one answer)
    throttled = "throttled"
    pupil = "pupil"              # a pupil's account: never merged with a representative's
    not_active = "not_active"    # not activated (a letter: "Ajouter un enfant") or deactivated
    second_factor = "second_factor"  # the other account asks a TOTP code: not by password alone


class MergeError(Exception):
    def __init__(self, reason: MergeRefused):
        super().__init__(reason.value)
        self.reason = reason


def _other_account(kept: Account, identifier: str, password: str) -> Account:
    typed = identifier.strip().lower()
    if typed == kept.identifier:
        raise MergeError(MergeRefused.own)
    ip = client_key()
    guard = throttle()
    if guard.is_blocked(ip, typed):
        passwords().verify(None, password)
        raise MergeError(MergeRefused.throttled)
    other = db.session.scalar(select(Account).where(Account.identifier == typed,
                                                    Account.state != AccountState.deleted))
    if not passwords().verify(other.password_hash if other else None, password):
        guard.record_failure(ip, typed)
        record("accounts_merge_failed", actor=kept.identifier)
        raise MergeError(MergeRefused.credentials)
    guard.clear_success(ip, typed)
    if other.profile != AccountProfile.parent or kept.profile != AccountProfile.parent:
        raise MergeError(MergeRefused.pupil)
    if other.state != AccountState.active:
        raise MergeError(MergeRefused.not_active)
    if db.session.get(SecondFactor, other.id) is not None:
        # Its password alone does not sign in to it: it must not hand over its children.
        raise MergeError(MergeRefused.second_factor)
    return other


def _lock_both(kept: Account, other: Account) -> None:
    """Both rows locked and read again (locks.py): a merge or a closing that committed
    meanwhile is seen. Crossed merges (A takes B while B takes A) would otherwise close
    both accounts and drop every child of both."""
    lock_accounts(kept, other)
    if kept.state != AccountState.active or other.state != AccountState.active:
        raise MergeError(MergeRefused.not_active)


def _move_links(kept: Account, other: Account) -> list[int]:
    have = set(db.session.scalars(select(GuardianLink.pupil_id).where(
        GuardianLink.guardian_id == kept.id)))
    moved = []
    for link in db.session.scalars(select(GuardianLink).where(
            GuardianLink.guardian_id == other.id)):
        if link.pupil_id not in have:
            link.guardian_id = kept.id
            moved.append(link.pupil_id)
    return moved


def _move_consents(kept: Account, other: Account) -> int:
    live = set(db.session.scalars(select(Consent.rp_key).where(
        Consent.account_id == kept.id, Consent.withdrawn_at.is_(None))))
    moved = 0
    for consent in db.session.scalars(select(Consent).where(
            Consent.account_id == other.id, Consent.withdrawn_at.is_(None))):
        if consent.rp_key not in live:
            consent.account_id = kept.id
            moved += 1
    return moved


def _move_charters(kept: Account, other: Account) -> int:
    accepted = set(db.session.scalars(select(CharterAcceptance.charter_version_id).where(
        CharterAcceptance.account_id == kept.id)))
    wanted = [a.id for a in db.session.scalars(select(CharterAcceptance).where(
        CharterAcceptance.account_id == other.id))
        if a.charter_version_id not in accepted]
    if wanted:
        db.session.execute(update(CharterAcceptance).where(CharterAcceptance.id.in_(wanted))
                           .values(account_id=kept.id),
                           execution_options={"synchronize_session": False})
    return len(wanted)


def _move_franceconnect(kept: Account, other: Account) -> int:
    """The other's FranceConnect link, when the kept account has none: the family goes on
    signing in with FranceConnect, now to the kept account (one link per account: a kept
    link stays, and the other's ends with the other account)."""
    if db.session.scalar(select(FranceConnectLink.id).where(
            FranceConnectLink.account_id == kept.id)) is not None:
        return 0
    link = db.session.scalar(select(FranceConnectLink).where(
        FranceConnectLink.account_id == other.id))
    if link is None:
        return 0
    link.account_id = kept.id
    link.created_account, link.placeholder_hash = False, None  # kept has its own password
    return 1


def merge(kept: Account, identifier: str, password: str) -> dict:
    """Merge the account named by `identifier` into `kept` (flushes). Returns what moved;
    MergeError when nothing may change."""
    other = _other_account(kept, identifier, password)
    _lock_both(kept, other)
    other_identifier = other.identifier
    moved = {"pupils": len(_move_links(kept, other)),
             "consents": _move_consents(kept, other),
             "charter_acceptances": _move_charters(kept, other),
             "franceconnect": _move_franceconnect(kept, other)}
    db.session.flush()
    record("accounts_merged", actor=kept.identifier, target=kept.identifier,
           closed=other.public_id, **moved)
    # The closed side's event, written before the tombstone rewrites its identifier.
    record("account_merged_into", actor=kept.identifier, target=other_identifier,
           kept=kept.public_id)
    retire(other, merged_into=kept)
    return moved
