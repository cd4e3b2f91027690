"""The letter itself: one A4 page per account, in French, drawn with reportlab.

A TrueType font is embedded (DejaVu Sans when the system has it, else the Bitstream Vera
that ships with reportlab) so names with any accent print as written.
"""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ..local_time import to_paris

FONT, BOLD = "LetterSans", "LetterSans-Bold"
_CANDIDATES = [
    (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
     Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")),
    (Path(reportlab.__file__).parent / "fonts" / "Vera.ttf",
     Path(reportlab.__file__).parent / "fonts" / "VeraBd.ttf"),
]
WIDTH, HEIGHT = A4
MARGIN = 20 * mm
TEXT_WIDTH = WIDTH - 2 * MARGIN


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for regular, bold in _CANDIDATES:
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont(FONT, str(regular)))
            pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
            return
    raise RuntimeError("no TrueType font for the letters")


def fr_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


class _Page:
    """A cursor going down the page."""

    def __init__(self, canvas: Canvas):
        self.c = canvas
        self.y = HEIGHT - MARGIN

    def text(self, value: str, size: float = 10.5, bold: bool = False, indent: float = 0,
             gap: float = 2.5, leading: float | None = None) -> None:
        font = BOLD if bold else FONT
        leading = leading or size * 1.35
        for line in simpleSplit(value, font, size, TEXT_WIDTH - indent):
            self.c.setFont(font, size)
            self.c.drawString(MARGIN + indent, self.y - size, line)
            self.y -= leading
        self.y -= gap

    def numbered(self, n: int, value: str) -> None:
        self.c.setFont(BOLD, 10.5)
        self.c.drawString(MARGIN, self.y - 10.5, f"{n}.")
        self.text(value, indent=7 * mm, gap=3)

    def box(self, rows: list[tuple[str, str]]) -> None:
        height = 9 * mm * len(rows) + 6 * mm
        self.c.setLineWidth(1.2)
        self.c.roundRect(MARGIN, self.y - height, TEXT_WIDTH, height, 3 * mm)
        y = self.y - 9 * mm
        for label, value in rows:
            self.c.setFont(FONT, 10.5)
            self.c.drawString(MARGIN + 6 * mm, y, label)
            self.c.setFont(BOLD, 13)
            self.c.drawString(MARGIN + 62 * mm, y, value)
            y -= 9 * mm
        self.y -= height + 6 * mm


def _steps(letter, academy_name: str, sign_in_url: str) -> tuple[str, list[str]]:
    if letter.account.profile.value == "pupil":
        return "Pour activer ton compte", [
            f"Va à l'adresse {sign_in_url}, choisis « Élève » et l'académie de {academy_name}.",
            "Saisis ton identifiant et le mot de passe provisoire ci-dessus.",
            "Choisis un nouveau mot de passe (8 caractères au moins, avec une majuscule, une "
            "minuscule, un chiffre et un caractère spécial) et saisis ta date de naissance.",
            "Saisis ton adresse mail et clique sur le lien du message « Activation de votre "
            "compte » que tu recevras. Sans adresse mail, tu ne pourras pas retrouver toi-même "
            "ton mot de passe en cas d'oubli : il faudra le redemander à l'établissement.",
        ]
    return "Pour activer votre compte", [
        f"Rendez-vous à l'adresse {sign_in_url}, choisissez « Représentant légal » et "
        f"l'académie de {academy_name}.",
        "Saisissez votre identifiant et le mot de passe provisoire ci-dessus.",
        "Choisissez un nouveau mot de passe (8 caractères au moins, avec une majuscule, une "
        "minuscule, un chiffre et un caractère spécial), saisissez la date de naissance de "
        "votre enfant et votre adresse de messagerie.",
        "Ouvrez le message « Activation de votre compte » reçu dans votre messagerie et "
        "cliquez sur le lien : la page « Votre compte a été validé » s'affiche. Pensez à "
        "regarder dans les courriers indésirables.",
    ]


def _addressee(letter) -> str:
    account = letter.account
    name = f"{account.first_name} {account.last_name}".strip()
    if account.profile.value == "pupil":
        return f"{name}, élève" + (f" de {account.class_name}" if account.class_name else "")
    if letter.pupils:
        children = ", ".join(f"{p['name']} ({p['class_name']})" if p["class_name"]
                             else p["name"] for p in letter.pupils)
        return f"{name}, représentant légal de {children}"
    return f"{name}, représentant légal"


def _draw(page: _Page, letter, school, academy_name: str, sign_in_url: str,
          today: date) -> None:
    c = page.c
    c.setFont(FONT, 9.5)
    c.drawString(MARGIN, page.y - 9.5, f"Académie de {academy_name}")
    c.drawRightString(WIDTH - MARGIN, page.y - 9.5, f"Le {fr_date(today)}")
    page.y -= 13
    page.text(f"{school.name} ({school.uai})", size=9.5, gap=10)
    page.text("Mise à disposition de vos services en ligne", size=17, bold=True, gap=6)
    page.text(f"À l'attention de {_addressee(letter)}", bold=True, gap=6)
    you = "ton" if letter.account.profile.value == "pupil" else "votre"
    page.text(f"L'établissement ouvre {you} compte pour accéder à l'ENT, à PRONOTE et aux "
              "téléservices de l'Éducation nationale. Il est valable pendant toute la "
              "scolarité.", gap=8)
    deadline = fr_date(to_paris(letter.deadline).date())
    page.box([("Identifiant", letter.account.identifier),
              ("Mot de passe provisoire", letter.password),
              ("Adresse de connexion", sign_in_url),
              ("À activer avant le", deadline)])
    title, steps = _steps(letter, academy_name, sign_in_url)
    page.text(title, size=12.5, bold=True, gap=4)
    for n, step in enumerate(steps, 1):
        page.numbered(n, step)
    page.y -= 4
    if letter.account.profile.value == "pupil":
        page.text(f"Tu as jusqu'au {deadline} pour activer ton compte. Passé ce délai, il sera "
                  "désactivé, puis supprimé au bout d'un an : il faudra alors t'adresser au "
                  "secrétariat de l'établissement.", bold=True, gap=8)
    else:
        page.text(f"Vous avez jusqu'au {deadline} pour activer votre compte. Passé ce délai, "
                  "il sera désactivé, puis supprimé au bout d'un an : adressez-vous alors au "
                  "secrétariat de l'établissement.", bold=True, gap=8)
    page.text("Ce courrier est personnel. Le mot de passe provisoire ne sert qu'à la première "
              "connexion ; l'identifiant, lui, ne changera pas. Ne communiquez jamais votre "
              "mot de passe, pas même à l'établissement.", size=9, gap=0)


def render_letters(letters: list, *, school, academy_name: str, sign_in_url: str,
                   today: date) -> bytes:
    """The PDF bytes: one page per letter, in the order given."""
    _register_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"Courriers de notification - {school.name}")
    canvas.setAuthor("Connexion Scolarité")
    for letter in letters:
        _draw(_Page(canvas), letter, school, academy_name, sign_in_url, today)
        canvas.showPage()
    if not letters:
        canvas.setFont(FONT, 11)
        canvas.drawString(MARGIN, HEIGHT - MARGIN, "Aucun courrier à imprimer.")
        canvas.showPage()
    canvas.save()
    return out.getvalue()
