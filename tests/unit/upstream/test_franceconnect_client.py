"""FranceConnect's answers checked before any key is fetched (issue 19): no `none` or
shared-secret algorithm, no unreadable token; the eIDAS levels' order; the names compared
as J4 compares them."""
from __future__ import annotations

import base64
import json

import pytest

from idp.journeys.franceconnect.service import names_match
from idp.upstream.franceconnect import client


def _token(header: dict, claims: dict) -> str:
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part(header)}.{part(claims)}.c2lnbmF0dXJl"


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512"])
def test_only_es256_and_rs256_are_accepted(app, alg):
    with app.app_context():
        with pytest.raises(client.Refused) as refused:
            client._decode(_token({"alg": alg, "kid": "k"}, {"sub": "x"}))
    assert refused.value.reason == "algorithm"


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b", "!!.??.##", None, 42])
def test_garbage_is_unavailable_not_an_error(app, garbage):
    with app.app_context():
        with pytest.raises(client.Unavailable):
            client._decode(garbage)


@pytest.mark.parametrize("returned, asked, ok", [
    ("eidas1", "eidas1", True), ("eidas2", "eidas1", True), ("eidas3", "eidas2", True),
    ("eidas1", "eidas2", False), ("eidas0", "eidas1", False), (None, "eidas1", False),
    ("EIDAS1", "eidas1", False)])
def test_acr_levels(returned, asked, ok):
    assert client.acr_satisfies(returned, asked) is ok


@pytest.mark.parametrize("given, family, first, last, ok", [
    ("Nadia", "Benali", "Nadia", "Benali", True),
    ("HÉLÈNE JOSÉPHINE", "LE GALL-HERVÉ", "Hélène", "Le Gall-Hervé", True),  # first given name
    ("Hélène Joséphine", "Le Gall-Hervé", "Hélène Joséphine", "le gall herve", True),
    ("Marie-Ange", "Santoni", "Marie Ange", "SANTONI", True),
    ("Nadia", "Benali", "Nadine", "Benali", False),
    ("Nadia", "Benali", "Nadia", "Benalli", False),
    ("Joséphine Hélène", "Le Gall", "Hélène", "Le Gall", False),  # not the first given name
    ("Nadia", "Benali", "", "Benali", False),
])
def test_names_are_compared_as_j4_does(given, family, first, last, ok):
    assert names_match({"given_name": given, "family_name": family}, first, last) is ok
