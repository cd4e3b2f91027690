"""Screenshots of the main screens at phone (390x844) and desktop (1280x800) width.

    make screenshots        # or: .venv/bin/python scripts/screenshots.py [--out DIR]

Starts its own IdP (gunicorn) and ENT + PRONOTE demo RPs on free ports, with a throwaway
SQLite database and keys loaded with the demo data, then walks the family's journey in
Chromium (/usr/bin/chromium, headless) and saves docs/screenshots/<screen>-<width>.png.
Nothing of the developer's `make run` data is touched.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from idp import create_app  # noqa: E402
from idp.admin.demo import load_demo  # noqa: E402
from idp.db import db  # noqa: E402
from idp.migrations import upgrade  # noqa: E402
from idp.keys import keyset  # noqa: E402
from idp.keys.sealing import key_encryption, new_key_encryption_key  # noqa: E402
from idp.secret_settings import new_values as new_secret_values  # noqa: E402
from tests.support.served import free_port, serve_idp, serve_rp  # noqa: E402

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
SIGN_IN = "Se connecter avec Connexion Scolarité"


def _settings(base: Path) -> dict:
    url = f"sqlite:///{base / 'idp.sqlite3'}"
    upgrade(url)
    settings = {**new_secret_values(), "DATABASE_URL": url,
                "KEY_ENCRYPTION_KEY": new_key_encryption_key(),
                "STORE_PATH": str(base / "store.sqlite3"),
                "DEMO_CLIENTS_FILE": str(base / "demo_clients.json"),
                "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8192, "DEV_OUTBOX": True}
    app = create_app(settings)
    with app.app_context():  # the signing keys, as `idp keys generate`
        keyset.generate(db.session, key_encryption(app.config))
        db.session.commit()
    return settings


class Shooter:
    """One browser context per width; `shot(name)` saves the page as it is now."""

    def __init__(self, browser, out: Path):
        self.out = out
        self.pages = {w: browser.new_context(viewport=v, locale="fr-FR").new_page()
                      for w, v in WIDTHS.items()}
        self.saved: list[Path] = []

    def each(self, action) -> None:
        for page in self.pages.values():
            action(page)

    def shot(self, name: str) -> None:
        for width, page in self.pages.items():
            path = self.out / f"{name}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            _shrink(path)
            self.saved.append(path)


def _shrink(path: Path) -> None:
    """128-colour palette PNG: flat UI colours survive, the file is ~60 % smaller. Pillow
    comes with reportlab (the letters PDF); without it the capture is kept as is."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def _click(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def walk(shooter: Shooter, idp: str, ent: str, pronote: str, parent: dict, letter: dict) -> None:
    each = shooter.each
    each(lambda p: (p.goto(ent + "/"), _click(p, f"text={SIGN_IN}")))
    each(lambda p: _click(p, "main button[type=submit]"))
    shooter.shot("01-wayf-errors")
    each(lambda p: (p.get_by_label("Représentant légal", exact=True).check(),
                    p.get_by_label("Mon académie").select_option(label="Nancy-Metz"),
                    _click(p, "main button[type=submit]")))
    shooter.shot("02-sign-in")
    each(lambda p: (p.get_by_label("Identifiant", exact=True).fill(parent["identifier"]),
                    p.get_by_label("Mot de passe", exact=True).fill("pas-le-bon"),
                    _click(p, "main button[type=submit]")))
    shooter.shot("03-sign-in-wrong-password")
    each(lambda p: (p.get_by_label("Identifiant", exact=True).fill(parent["identifier"]),
                    p.get_by_label("Mot de passe", exact=True).fill(parent["password"]),
                    _click(p, "main button[type=submit]")))
    shooter.shot("04-charter")
    each(lambda p: (p.locator("input[name=accept]").check(),
                    _click(p, "main button[type=submit]")))
    shooter.shot("05-preferences")
    each(lambda p: _click(p, "main button[type=submit]"))
    each(lambda p: (p.goto(pronote + "/"), _click(p, f"text={SIGN_IN}")))
    shooter.shot("06-service-notice")
    each(lambda p: (p.locator("input[name=acknowledge]").check(),
                    _click(p, "main button[type=submit]")))
    each(lambda p: p.goto(idp + "/"))
    shooter.shot("07-home")
    each(lambda p: p.goto(idp + "/compte"))
    shooter.shot("08-my-account")
    each(lambda p: p.goto(idp + "/?lang=en"))
    shooter.shot("09-home-english")
    each(lambda p: (p.goto(idp + "/?lang=fr"), p.goto(ent + "/"),
                    _click(p, "text=Se déconnecter")))
    shooter.shot("10-logout")
    each(lambda p: _click(p, "main button[type=submit]"))
    # First connection (J3) with the letter's temporary password.
    each(lambda p: (p.goto(idp + "/connexion"),
                    p.get_by_label("Identifiant", exact=True).fill(letter["identifier"]),
                    p.get_by_label("Mot de passe", exact=True).fill(letter["password"]),
                    _click(p, "main button[type=submit]")))
    shooter.shot("11-first-connection")
    each(lambda p: (p.context.clear_cookies(), p.goto(idp + "/recuperation/mot-de-passe")))
    shooter.shot("12-forgotten-password")
    each(lambda p: p.goto(idp + "/inscription"))
    shooter.shot("13-sign-up")
    each(lambda p: p.goto(idp + "/pas-de-page-ici"))
    shooter.shot("14-page-not-found")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default=os.environ.get("IDP_E2E_CHROMIUM",
                                                              "/usr/bin/chromium"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        base = Path(tmp)
        settings = _settings(base)
        idp = stack.enter_context(serve_idp(settings, base / "logs"))
        urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("ENT", "PRONOTE")}
        os.environ.update(DEMO_ENT_URL=urls["ENT"], DEMO_PRONOTE_URL=urls["PRONOTE"])
        app = create_app({**settings, "ISSUER": idp.url})
        with app.app_context():
            summary = load_demo()
            db.session.commit()
        for name, module in (("ENT", "clients.ent"), ("PRONOTE", "clients.pronote")):
            stack.enter_context(serve_rp(module, port=urlsplit(urls[name]).port,
                                         issuer=idp.url, clients_file=summary["clients_file"],
                                         log_dir=base / "logs"))
        parent = next(a for a in summary["accounts"]
                      if a["profile"] == "parent" and not a.get("provisional"))
        letter = next(a for a in summary["accounts"]
                      if a["profile"] == "parent" and a.get("provisional"))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium,
                                                 headless=True, args=FLAGS)
            shooter = Shooter(browser, args.out)
            walk(shooter, idp.url, urls["ENT"], urls["PRONOTE"], parent, letter)
            browser.close()
    total = sum(p.stat().st_size for p in shooter.saved)
    print(f"{len(shooter.saved)} screenshots in {args.out} ({total // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
