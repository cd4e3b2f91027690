"""J7: what a signed-in family can reach, and which pupils a parent account is linked to."""
from __future__ import annotations

from sqlalchemy import select

from ...db import db
from ...models import Account, GuardianLink
from ...relying_parties import enabled_parties


def linked_pupils(account: Account) -> list[Account]:
    """The pupils linked to a parent (one query, pupils joined)."""
    links = db.session.scalars(
        select(GuardianLink).where(GuardianLink.guardian_id == account.id)).all()
    return sorted((link.pupil for link in links), key=lambda p: p.first_name)


def reachable_services() -> list[dict]:
    """Enabled relying parties with the address of their home page (OIDC: the origin of
    the first redirect URI; an SP without a known home page is not listed)."""
    return [{"name": party.name, "url": party.home_url}
            for party in enabled_parties() if party.home_url]
