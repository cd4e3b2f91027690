"""Keyboard alone, at 320 px: skip link first, every stop shows a visible focus ring, the
WAYF and the sign-in are done with Tab, Space, arrows and Enter; a failed sign-in puts
the focus on the error summary (static/js/comfort.js), whose links lead to the fields."""
from __future__ import annotations

from tests.e2e.conftest import PHONE


def _focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
        return {tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name') || '',
                cls: e.className || '', text: (e.innerText || '').trim().slice(0, 40),
                outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2}; }""")


def _tab_to(page, test, limit: int = 25) -> dict:
    """Tab until `test(focused)` holds; every stop on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focused(page)
        assert now["outline"], f"no visible focus on {now}"
        if test(now):
            return now
    raise AssertionError("never reached by Tab")


def test_sign_in_with_the_keyboard_alone_at_320px(family, make, served_idp):
    made = make.account(identifier="k.clavier")
    page = family.page
    page.set_viewport_size(PHONE)
    family.goto(served_idp.url + "/choisir-profil")
    page.keyboard.press("Tab")
    first = _focused(page)
    assert "skip" in first["cls"] and first["outline"], first
    _tab_to(page, lambda f: f["name"] == "profile")
    page.keyboard.press("ArrowRight")  # second radio: "Représentant légal"
    assert page.locator("input[name=profile][value=parent]").is_checked()
    _tab_to(page, lambda f: f["name"] == "academy")
    page.keyboard.type("Nancy")  # a select follows typed letters
    assert page.locator("select[name=academy]").input_value() == "nancy-metz"
    _tab_to(page, lambda f: f["tag"] == "button")  # Enter on a select would open it
    with page.expect_navigation():
        page.keyboard.press("Enter")
    family.check()
    assert family.path == "/connexion"

    _tab_to(page, lambda f: f["name"] == "identifier")
    page.keyboard.type(made.identifier)
    _tab_to(page, lambda f: f["name"] == "password")
    page.keyboard.type("pas-le-bon")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    family.check()
    page.set_viewport_size(PHONE)
    assert "error-summary" in _focused(page)["cls"]  # read first by a screen reader
    _tab_to(page, lambda f: f["tag"] == "a" and "incorrect" in f["text"])
    page.keyboard.press("Enter")  # the summary's link leads to the field
    assert page.evaluate("location.hash") in ("#identifier", "#password")
    page.locator("#password").focus()
    page.keyboard.type(made.password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    family.check()
    assert family.path == "/", family.page.url
