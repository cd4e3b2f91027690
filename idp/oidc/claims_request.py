"""The `claims` request parameter (OpenID Connect Core 5.5): individual claims asked for
the ID token and for userinfo, on top of those of the scopes.

A claim is released only when the client is registered for the scope that carries it
(never more than its scopes allow); asking for it adds that scope to what the family
consents to. Claims this provider does not know are ignored, as 5.5 says. `acr` asked
as an essential ID-token claim with `values` is a level requirement, like `acr_values`.
"""
from __future__ import annotations

import json

from .supported import ACR_VALUES

# The claims each scope releases (claims.user_info builds them).
SCOPE_CLAIMS = {
    "profile": ("name", "given_name", "family_name", "preferred_username", "locale"),
    "email": ("email", "email_verified"),
    "education": ("profile", "affiliation", "academy", "school_uai", "school_name", "class",
                  "pupils"),
}
CLAIM_SCOPE = {claim: scope for scope, claims in SCOPE_CLAIMS.items() for claim in claims}
TARGETS = ("userinfo", "id_token")


class ClaimsRequestError(ValueError):
    """A `claims` parameter that is not the JSON object 5.5 describes."""


def parse(raw: str | None, registered_scopes) -> dict:
    """{"userinfo": [names], "id_token": [names], "acr": [values] (essential acr values
    asked for the ID token)} from the parameter, each name one this client may receive."""
    if raw in (None, ""):
        return {}
    try:
        request = json.loads(raw) if len(raw) <= 4000 else None
    except ValueError:
        request = None
    if not isinstance(request, dict) or any(
            not isinstance(request.get(target, {}), dict) for target in TARGETS):
        raise ClaimsRequestError("claims must be a JSON object of userinfo and id_token "
                                 "objects (OpenID Connect Core 5.5)")
    allowed = set(registered_scopes)
    parsed: dict = {}
    for target in TARGETS:
        for name, spec in request.get(target, {}).items():
            if spec is not None and not isinstance(spec, dict):
                raise ClaimsRequestError(f"claims.{target}.{name} must be null or an object")
            if name == "acr" and target == "id_token" and spec and spec.get("essential"):
                values = spec.get("values") or ([spec["value"]] if "value" in spec else [])
                parsed["acr"] = [v for v in values if isinstance(v, str)]
            elif CLAIM_SCOPE.get(name) in allowed:
                parsed.setdefault(target, []).append(name)
    return parsed


def implied_scopes(parsed: dict) -> list[str]:
    """The scopes whose claims are asked for (consent covers them)."""
    names = [*parsed.get("userinfo", []), *parsed.get("id_token", [])]
    return sorted({CLAIM_SCOPE[name] for name in names})


def required_acr(acr_values: str | None, parsed: dict) -> str | None:
    """The level the request requires, if any: "mfa" when every value this provider
    offers among those asked is "mfa" (a list naming "pwd" too accepts the password
    alone). ValueError when values were asked and none is offered."""
    asked = (acr_values or "").split() + parsed.get("acr", [])
    if not asked:
        return None
    offered = [value for value in asked if value in ACR_VALUES]
    if not offered:
        raise ValueError(asked)
    return "mfa" if set(offered) == {"mfa"} else None


def pick(info: dict, names) -> dict:
    """The named claims of `info` that have a value."""
    return {name: info[name] for name in names if info.get(name) not in (None, "", [])}
