"""Interop tests drive served processes over real HTTP (see tests/support/served.py).

Importing the fixture here defines it once for the directory, so every module shares one
served IdP per session instead of starting its own."""
from tests.support.served import served_idp  # noqa: F401
