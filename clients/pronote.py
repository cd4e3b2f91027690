"""Demo PRONOTE (vie scolaire): `python -m clients.pronote --port 5002`.

Authenticates to the token endpoint with client_secret_post (as registered by
`idp demo load`); everything else is in clients.common.
"""
from __future__ import annotations

from .common import Demo, main

DEMO = Demo(name="PRONOTE", colour="#1b7d3a", default_port=5002,
            tagline="Notes, cahier de textes et vie scolaire (démonstration)")

if __name__ == "__main__":
    main(DEMO)
