"""The English catalogue is complete: every French string in the code and templates, as
extracted right now (so a string added without re-extracting is caught too), has an
English translation with the same placeholders, and the committed .mo matches the .po.

To add strings: `make translations` (extract + update the .po), translate the empty
msgstr in translations/en/LC_MESSAGES/messages.po, then `make translations` again (compile).
"""
from __future__ import annotations

import io
import re

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from idp.config import PROJECT_ROOT

PO = PROJECT_ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PROJECT_ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.mo"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalog():
    with PO.open("rb") as fh:
        return read_po(fh, locale="en")


def _source_messages() -> set:
    with (PROJECT_ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _translated(catalog) -> dict:
    out = {}
    for m in catalog:
        if not m.id or m.fuzzy:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if all(strings):
            out[key] = m
    return out


def test_every_french_string_has_an_english_translation():
    done = _translated(_catalog())
    missing = sorted(_source_messages() - set(done))
    assert not missing, (f"{len(missing)} French string(s) without English translation "
                         f"(run `make translations`, then translate):\n" + "\n".join(missing))


def test_translations_keep_the_placeholders():
    wrong = []
    for m in _catalog():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for fr, en in zip((ids[0], ids[-1]), (strings[0], strings[-1])):
            if en and sorted(PLACEHOLDER.findall(fr)) != sorted(PLACEHOLDER.findall(en)):
                wrong.append(f"{fr!r} -> {en!r}")
    assert not wrong, "\n".join(wrong)


def _pairs(catalog) -> dict:
    def key(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value
    return {key(m.id): key(m.string) for m in catalog if m.id}


def test_compiled_catalogue_matches_the_po():
    compiled = io.BytesIO()
    write_mo(compiled, _catalog())
    compiled.seek(0)
    fresh = _pairs(read_mo(compiled))
    with MO.open("rb") as fh:
        committed = _pairs(read_mo(fh))
    assert committed == fresh, "messages.mo is stale: run `make translations`"


FRENCH_PO = PROJECT_ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
FRENCH_MO = PROJECT_ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.mo"


def test_every_french_plural_is_in_the_french_catalogue_and_its_mo():
    """French plural rules, not English ones: scripts/french_plurals.py writes every
    ngettext message of the code with its own forms (`make translations`)."""
    with (PROJECT_ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    plurals = {message for *_, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS)
        if not isinstance(message, str)}
    with FRENCH_PO.open("rb") as fh:
        catalogue = read_po(fh, locale="fr")
    written = {tuple(m.id): m.string for m in catalogue if m.id}
    missing = sorted(p[0] for p in plurals if tuple(p[:2]) not in written)
    assert not missing, "not in the French catalogue (run `make translations`): " + str(missing)
    assert all(s[0] == i[0] and set(s[1:]) == {i[1]} for i, s in written.items())
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    with FRENCH_MO.open("rb") as fh:
        assert _pairs(read_mo(fh)) == _pairs(read_mo(compiled)), "fr messages.mo is stale"


def test_zero_is_singular_in_french_and_plural_in_english(app):
    from flask_babel import force_locale, ngettext

    with app.test_request_context():
        with force_locale("fr"):
            assert ngettext("%(num)d heure", "%(num)d heures", 0) == "0 heure"
            assert ngettext("%(num)d heure", "%(num)d heures", 1) == "1 heure"
            assert ngettext("%(num)d heure", "%(num)d heures", 2) == "2 heures"
        with force_locale("en"):
            assert ngettext("%(num)d heure", "%(num)d heures", 0) == "0 hours"
