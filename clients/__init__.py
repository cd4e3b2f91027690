"""Demo relying parties ("ENT" and "PRONOTE") that sign families in through the IdP.

They exist to show, in a real browser, single sign-on and single logout between two
services: `python -m clients.ent --port 5001`, `python -m clients.pronote --port 5002`.
The shared code is in `clients.common`; see clients/README.md.
"""
