"""The protocol adapters registered on this app (adapter.py's register_adapter), looked
up by the engine, the SSO session and the journeys. Kept apart from the contract so the
session can reach the adapters without importing what the contract's methods name."""
from __future__ import annotations

from flask import current_app


def adapters() -> list:
    """Every registered ProtocolAdapter, in registration order."""
    return list(current_app.extensions["idp"].get("adapters", {}).values())


def adapter_for(protocol: str):
    """The ProtocolAdapter answering `protocol` ("oidc", "saml"), or None."""
    return current_app.extensions["idp"].get("adapters", {}).get(protocol)
