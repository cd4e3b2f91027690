"""J7: what a signed-in family can reach, and which pupils a parent account is linked to."""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from ...db import db
from ...models import Account, GuardianLink, OIDCClient


def linked_pupils(account: Account) -> list[Account]:
    """The pupils linked to a parent (one query, pupils joined)."""
    links = db.session.scalars(
        select(GuardianLink).where(GuardianLink.guardian_id == account.id)).all()
    return sorted((link.pupil for link in links), key=lambda p: p.first_name)


def reachable_services() -> list[dict]:
    """Enabled relying parties with the address of their home page."""
    services = []
    for client in db.session.scalars(
            select(OIDCClient).where(OIDCClient.enabled.is_(True)).order_by(OIDCClient.name)):
        if client.redirect_uris:
            parts = urlsplit(client.redirect_uris[0])
            services.append({"name": client.name, "url": f"{parts.scheme}://{parts.netloc}/"})
    return services
