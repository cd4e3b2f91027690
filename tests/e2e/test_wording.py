"""Issue 21, point 9 in a real browser at 390 px: a pupil's first connection says "tu" from
the heading to the error messages, and the screenshots of that page (empty, then with every
mistake at once) are kept under var/e2e/ to be looked at."""
from __future__ import annotations

import re

from idp.config import PROJECT_ROOT

from .test_journeys import _choose_profile

SHOTS = PROJECT_ROOT / "var" / "e2e"
IPHONE = {"width": 390, "height": 844}
VOUS = re.compile(r"\b(vous|votre|vos|Vous|Votre|Vos|[Cc]hoisissez|[Ss]aisissez|[Cc]ochez)\b")


def test_a_pupils_first_connection_says_tu_at_390px(family, demo):
    letter = next(a for a in demo["accounts"] if a["profile"] == "pupil"
                  and a.get("provisional"))
    family.page.set_viewport_size(IPHONE)
    family.goto(demo["idp"] + "/")
    _choose_profile(family, profile="Élève")
    family.submit({"Identifiant": letter["identifier"], "Mot de passe": letter["password"]})
    assert family.path == "/premiere-connexion", family.page.url
    main = family.page.locator("main")
    assert "active ton compte" in main.inner_text()
    assert not VOUS.search(main.inner_text()), VOUS.search(main.inner_text()).group(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    family.page.screenshot(path=str(SHOTS / "pupil-first-connection-390.png"), full_page=True)

    form = family.page.locator("main form").first
    form.locator("input[name=password]").fill("Durand-2012!x")   # holds the name
    form.locator("input[name=birth_date]").fill("31/02/2012")    # not a date
    family.click("main button[type=submit]")
    text = main.inner_text()
    assert family.path == "/premiere-connexion"
    assert "Saisis à nouveau le nouveau mot de passe." in text
    assert "Saisis la date au format JJ/MM/AAAA" in text
    assert not VOUS.search(text), VOUS.search(text).group(0)
    width = family.page.evaluate("document.documentElement.scrollWidth")
    assert width <= IPHONE["width"], width
    family.page.screenshot(path=str(SHOTS / "pupil-first-connection-errors-390.png"),
                           full_page=True)
