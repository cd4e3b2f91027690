"""A form sent without its CSRF token (expired, or sent twice): the page says so in "tu"
to a pupil and in "vous" to a parent, like every other page (idp/i18n.speaks_to_a_pupil:
the signed-in account's profile, else the profile chosen on the device)."""
from __future__ import annotations

from html import unescape

import pytest

PUPIL = "Reviens à la page précédente, actualise-la et recommence."
PARENT = "Revenez à la page précédente, actualisez-la et recommencez."


@pytest.mark.parametrize("profile, said, not_said", [("pupil", PUPIL, PARENT),
                                                     ("parent", PARENT, PUPIL)])
def test_the_expired_form_page_speaks_to_its_reader(client, profile, said, not_said):
    client.set_cookie("idp_wayf", f"{profile}:reims")
    response = client.post("/connexion", data={"identifier": "x.y1", "password": "p"})
    text = unescape(response.text)
    assert response.status_code == 400 and "Formulaire expiré" in text
    assert said in text and not_said not in text


def test_a_signed_in_pupil_is_spoken_to_as_a_pupil(browser, make):
    """Without a device choice, the signed-in account's profile decides."""
    pupil = make.account(profile="pupil")
    browser.sign_in(pupil.identifier, pupil.password)
    browser.client.delete_cookie("idp_wayf")
    response = browser.client.post("/deconnexion", data={})
    text = unescape(response.text)
    assert response.status_code == 400 and PUPIL in text, text[:800]
