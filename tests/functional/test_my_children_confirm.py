""""Mes enfants": « Donner un mot de passe provisoire » first leads to a page naming the
child and saying what will happen (GET, or the button's POST without `confirm`); nothing
changes until « Confirmer » (the confirmed POST with its CSRF token). The refusals, the
audit and the page showing the password once: test_my_children."""
from __future__ import annotations

from html import unescape

from ..support.accounts import account_row, deliver, mails_to
from .test_my_children import PUPIL_EMAIL, _guardian_events, _signed_in_family


def test_the_button_asks_for_confirmation_and_changes_nothing(app, browser, make, use_smtp):
    family = _signed_in_family(app, browser, make, email=PUPIL_EMAIL, email_verified=True)
    pupil = family.pupils[0]
    before = account_row(app, pupil.id)
    path = f"/compte/enfants/{pupil.id}/mot-de-passe"
    listing = browser.get("/compte/enfants")
    for page in (browser.submit(path, {}, page_html=listing.text), browser.get(path)):
        assert page.status_code == 200 and page.request.path == path
        text = unescape(page.text)
        assert "<h1>Donner un mot de passe provisoire à Enfant0 Martin ?</h1>" in text
        assert "Collège Jean Moulin" in text and "5e A" in text
        assert "Le mot de passe actuel de votre enfant cessera aussitôt de fonctionner" in text
        assert "votre enfant choisira son propre nouveau mot de passe" in text
        assert "n'a pas de date d'expiration" in text
        assert 'name="confirm" value="1"' in page.text and 'name="csrf_token"' in page.text
        assert f'action="{path}"' in page.text
        assert ">Confirmer<" in page.text
        assert "donner un mot de passe provisoire à Enfant0 Martin" in text  # the button
        assert 'href="/compte/enfants"' in page.text and ">Annuler<" in page.text
        assert 'id="temporary-password"' not in page.text
        assert page.headers["Cache-Control"] == "no-store"
        row = account_row(app, pupil.id)
        assert row.password_hash == before.password_hash
        assert row.provisional_password_hash == before.provisional_password_hash
        assert row.guardian_reset_at is None
    assert _guardian_events(app) == []
    deliver(app)
    assert mails_to(use_smtp, PUPIL_EMAIL) == []
    done = browser.submit_page({})  # « Confirmer »: the page's CSRF token and confirm
    assert done.status_code == 200 and 'id="temporary-password"' in done.text
    row = account_row(app, pupil.id)
    assert row.password_hash != before.password_hash
    assert row.provisional_password_hash and \
        row.provisional_password_hash != before.provisional_password_hash
    assert row.guardian_reset_at is not None
    assert _guardian_events(app) == ["guardian_temporary_password"]
    again = unescape(browser.get(path).text)  # a second time: the previous one ends too
    assert "Le mot de passe provisoire donné précédemment cessera aussi" in again
