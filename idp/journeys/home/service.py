"""J7: what a signed-in family can reach."""
from __future__ import annotations

from ...relying_parties import enabled_parties


def reachable_services() -> list[dict]:
    """Enabled relying parties with the address of their home page (OIDC: the origin of
    the first redirect URI; an SP without a known home page is not listed)."""
    return [{"name": party.name, "url": party.home_url}
            for party in enabled_parties() if party.home_url]
