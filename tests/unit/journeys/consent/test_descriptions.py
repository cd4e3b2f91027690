"""What a service receives, in sentences (idp/journeys/consent/descriptions.py): the
names said once, "tu" for a pupil, "vous" for a parent or nobody known."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from idp.journeys.consent.descriptions import describe
from idp.models import AccountProfile

PUPIL = SimpleNamespace(profile=AccountProfile.pupil)
PARENT = SimpleNamespace(profile=AccountProfile.parent)


@pytest.mark.parametrize("items, sentences", [
    (["sn"], ["Votre nom"]),
    (["givenName"], ["Votre prénom"]),
    (["sn", "givenName"], ["Vos nom et prénom"]),
    (["displayName", "sn", "givenName"], ["Vos nom et prénom"]),
    (["displayName"], ["Vos nom et prénom"]),
    (["FrEduCtId", "givenName", "mail"],
     ["Un identifiant technique qui vous représente auprès de ce service (il ne contient "
      "ni votre nom ni votre mot de passe)", "Votre prénom", "Votre adresse électronique"])])
def test_saml_names_are_said_once(app, items, sentences):
    with app.test_request_context():
        assert describe("saml", items, PARENT) == sentences


def test_a_pupil_reads_tu_and_nobody_known_reads_vous(app):
    with app.test_request_context():
        assert describe("saml", ["sn", "givenName", "ENTEleveClasses"], PUPIL) == [
            "Tes nom et prénom", "Ta classe"]
        assert describe("oidc", ["email"], PUPIL) == ["Ton adresse électronique"]
        assert describe("oidc", ["email"]) == ["Votre adresse électronique"]
        assert describe("saml", ["ENTEleveClasses"]) == ["Votre classe"]
        assert describe("saml", ["ENTEleveClasses"], PARENT) == [
            "La classe des élèves rattachés à votre compte"]


def test_the_vector_says_the_names_and_school_once(app):
    """Téléservices' attributes (found by the Chromium walk): the page listed "Tes nom et
    prénom" and "Ton établissement" beside FrEduVecteur's sentence that says them."""
    items = ["FrEduCtId", "FrEduCtPersonAffiliation", "sn", "givenName", "FrEduCtEleveUAI",
             "FrEduVecteur"]
    with app.test_request_context():
        assert describe("saml", items, PUPIL) == [
            "Un identifiant technique qui te représente auprès de ce service (il ne contient "
            "ni ton nom ni ton mot de passe)",
            "Ton profil : élève ou représentant légal",
            "Tes nom et prénom, ton identifiant technique et ton établissement"]
        parent = describe("saml", items, PARENT)
        assert parent[-1].startswith("Vos nom et prénom, et pour chaque élève")
        assert "Vos nom et prénom" not in parent
        assert "L'établissement des élèves rattachés à votre compte" not in parent
        assert describe("saml", ["sn", "givenName", "FrEduCtEleveUAI"], PUPIL) == [
            "Tes nom et prénom", "Ton établissement"]  # without the vector: said
