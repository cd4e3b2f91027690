"""What an account looks like to a relying party: `sub` (public or pairwise) and the
claims of each scope. Only the scopes registered for the client are ever granted
(Client.get_allowed_scope), so a client receives nothing it was not registered for.
"""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from authlib.oidc.core import UserInfo
from flask import current_app

from ..families import linked_pupils
from ..models import Account, AccountProfile


def subject(account: Account, client) -> str:
    """The account's `sub` for this client: its opaque public id, or a pairwise value
    (OIDC Core 8.1) derived from the client's sector (host of its redirect URIs)."""
    row = getattr(client, "row", client)
    if not row.pairwise:
        return account.public_id
    sector = urlsplit(row.redirect_uris[0]).hostname or row.client_id
    salt = current_app.config["PAIRWISE_SALT"]
    digest = hashlib.sha256(f"{sector}|{account.public_id}|{salt}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def affiliation(account: Account) -> str:
    """FrEduCtPersonAffiliation: eleve / resp, for primary (1d) or secondary (2d)."""
    level = "1d" if account.school is not None and account.school.level == "1d" else "2d"
    return ("resp" if account.profile == AccountProfile.parent else "eleve") + level


def education_claims(account: Account, client) -> dict:
    """The ENT-style attributes: profile, academy, school, class, and linked pupils."""
    claims = {
        "profile": account.profile.value,
        "affiliation": affiliation(account),
        "academy": account.academy_code,
    }
    if account.school is not None:
        claims["school_uai"] = account.school.uai
        claims["school_name"] = account.school.name
    if account.profile == AccountProfile.pupil:
        if account.class_name:
            claims["class"] = account.class_name
    else:
        claims["pupils"] = [{
            "sub": subject(pupil, client),
            "given_name": pupil.first_name,
            "family_name": pupil.last_name,
            "school_uai": pupil.school.uai if pupil.school else None,
            "class": pupil.class_name,
        } for pupil in linked_pupils(account)]
    return claims


def user_info(account: Account, client, scope: str) -> UserInfo:
    scopes = set((scope or "").split())
    info = UserInfo(sub=subject(account, client))
    if "profile" in scopes:
        info.update(name=account.display_name, given_name=account.first_name,
                    family_name=account.last_name, preferred_username=account.identifier,
                    locale=account.locale)
    if "email" in scopes and account.email:
        info.update(email=account.email, email_verified=account.email_verified)
    if "education" in scopes:
        info.update(education_claims(account, client))
    return info
