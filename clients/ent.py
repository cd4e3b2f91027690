"""Demo ENT (espace numérique de travail): `python -m clients.ent --port 5001`.

Authenticates to the token endpoint with client_secret_basic (as registered by
`idp demo load`); everything else is in clients.common.
"""
from __future__ import annotations

from .common import Demo, main

DEMO = Demo(name="ENT", colour="#000091", default_port=5001,
            tagline="Espace numérique de travail du collège (démonstration)")

if __name__ == "__main__":
    main(DEMO)
