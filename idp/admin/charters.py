"""Publishing texts families must see before a service: charter versions (general or an
RP's own) and relying parties' one-time notices. Behind `idp charter ...` and
`idp notices ...`; flushes, the command commits.

A text is a UTF-8 file (config/charter/general-2026-09.md): a "# Title" first line, then
paragraphs, "## " headings and "- " lists (see journeys/charter/text.py). Publishing the
same file again changes nothing; a different text under a published version is refused,
since families accepted the words of that version.

Pupils are spoken to with "tu": a sibling file named like the charter or the notice with
".eleve" before the extension (general-2026-09.eleve.md, pronote-2026-09.eleve.md) is the
pupils' wording of the same version, published with it (or added to a version published
without one); without it, pupils see the common text.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from ..audit import record
from ..db import db
from ..journeys.charter.text import split_title
from ..models import CharterAcceptance, CharterVersion, RPNotice, RPNoticeAcknowledgment
from ..models.consent import GENERAL_AUDIENCE
from ..relying_parties import UnknownRelyingParty, require

_VERSION_IN_NAME = re.compile(r"(\d{4}-\d{2}(?:-\d{2})?(?:[.-]\w+)?)$")
MAX_BYTES = 512 * 1024
NOTICE_TITLE = "Informations"
PUPIL_SUFFIX = ".eleve"  # general-2026-09.md -> general-2026-09.eleve.md


class PublicationError(ValueError):
    """A text that cannot be published; the message says why."""


@dataclass
class Text:
    title: str | None
    body: str
    sha256: str
    version: str


def read_text(path: str | Path, version: str | None) -> Text:
    """Read and check a text file; the version defaults to the date in its name
    (general-2026-09.md -> 2026-09), else the file name."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PublicationError(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_BYTES:
        raise PublicationError(f"{path} is larger than {MAX_BYTES // 1024} KiB")
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PublicationError(f"{path} is not UTF-8 text (byte {exc.start})") from exc
    title, body = split_title(content)
    if not body.strip():
        raise PublicationError(f"{path} has no text")
    if version is None:
        match = _VERSION_IN_NAME.search(path.stem)
        version = match.group(1) if match else path.stem
    version = version.strip()
    if not version or len(version) > 64:
        raise PublicationError("a version is 1 to 64 characters")
    return Text(title, body, hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(), version)


def _audience(rp_key: str | None) -> str:
    if not rp_key:
        return GENERAL_AUDIENCE
    try:
        return require(rp_key).key
    except UnknownRelyingParty as exc:
        raise PublicationError(str(exc)) from exc


def publish_charter(path: str | Path, rp_key: str | None = None, version: str | None = None,
                    actor: str | None = None) -> tuple[CharterVersion, bool]:
    """Publish a charter version (general, or for one relying party). Returns the row and
    whether it is new; a new version is asked of every account at its next passage."""
    audience = _audience(rp_key)
    path = Path(path)
    _refuse_pupil_file(path, "a charter")
    text = read_text(path, version)
    pupil_body = _pupil_body(path, text)
    existing = db.session.scalar(select(CharterVersion).where(
        CharterVersion.audience == audience, CharterVersion.version == text.version))
    if existing is not None:
        if existing.sha256 != text.sha256:
            raise PublicationError(
                f"version {text.version} is already published with a different text: "
                "publish the new text under a new version")
        if _add_pupil_body(existing, pupil_body, text.version):
            record("charter_pupil_wording_added", actor=actor, target=audience[:128],
                   version=text.version)
        return existing, False
    row = CharterVersion(audience=audience, version=text.version,
                         title=text.title or "Charte d'utilisation", body=text.body,
                         pupil_body=pupil_body, source_path=str(path)[:500],
                         sha256=text.sha256)
    db.session.add(row)
    db.session.flush()
    record("charter_published", actor=actor, target=audience[:128], version=text.version)
    return row, True


def _refuse_pupil_file(path: Path, what: str) -> None:
    """The pupils' wording is read with the common text, not published alone."""
    if path.stem.endswith(PUPIL_SUFFIX):
        raise PublicationError(f"{path.name} is the pupils' wording of {what}: publish "
                               f"{path.stem[:-len(PUPIL_SUFFIX)]}{path.suffix}, it is read "
                               "with it")


def _add_pupil_body(existing: CharterVersion | RPNotice, pupil_body: str | None,
                    version: str) -> bool:
    """A published version gets the pupils' wording it lacked (True); the same one again
    changes nothing; a different one is refused (pupils may have read it)."""
    if pupil_body is None or pupil_body == existing.pupil_body:
        return False
    if existing.pupil_body is not None:
        raise PublicationError(f"version {version} already has a different pupils' wording: "
                               "publish the new text under a new version")
    existing.pupil_body = pupil_body  # the same version, now worded for pupils
    db.session.flush()
    return True


def _pupil_body(path: Path, text: Text) -> str | None:
    """The pupils' wording beside `path` (general-2026-09.eleve.md), checked like the
    text itself; None when there is none. It keeps the version's title."""
    sibling = path.with_name(f"{path.stem}{PUPIL_SUFFIX}{path.suffix}")
    if not sibling.is_file():
        return None
    pupil = read_text(sibling, text.version)
    if pupil.title is not None and pupil.title != text.title:
        raise PublicationError(f"{sibling.name} has another title than {path.name}: the "
                               "pupils' wording keeps the title of the version")
    return pupil.body


def list_charters() -> list[dict]:
    """Every version, newest first per audience, with how many accounts accepted it."""
    counts = dict(db.session.execute(
        select(CharterAcceptance.charter_version_id, func.count())
        .group_by(CharterAcceptance.charter_version_id)).all())
    rows = db.session.scalars(select(CharterVersion).order_by(
        CharterVersion.audience, CharterVersion.published_at.desc(),
        CharterVersion.id.desc())).all()
    seen: set[str] = set()
    out = []
    for row in rows:
        out.append({"audience": row.audience, "version": row.version, "title": row.title,
                    "published_at": row.published_at.isoformat(),
                    "current": row.audience not in seen, "source": row.source_path,
                    "pupil_wording": row.pupil_body is not None,
                    "acceptances": counts.get(row.id, 0)})
        seen.add(row.audience)
    return out


def publish_notice(path: str | Path, rp_key: str,
                   version: str | None = None) -> tuple[RPNotice, bool]:
    """Register a relying party's one-time notice (with the pupils' wording beside it, as
    for a charter); a new version is acknowledged again."""
    if not rp_key:
        raise PublicationError("a notice belongs to a relying party: give --rp")
    audience = _audience(rp_key)
    path = Path(path)
    _refuse_pupil_file(path, "a notice")
    text = read_text(path, version)
    pupil_body = _pupil_body(path, text)
    existing = db.session.scalar(select(RPNotice).where(
        RPNotice.rp_key == audience, RPNotice.version == text.version))
    if existing is not None:
        if (existing.title, existing.body) != (text.title or NOTICE_TITLE, text.body):
            raise PublicationError(
                f"version {text.version} of this notice already exists with a different "
                "text: publish it under a new version")
        if _add_pupil_body(existing, pupil_body, text.version):
            record("rp_notice_pupil_wording_added", target=audience[:128],
                   version=text.version)
        return existing, False
    row = RPNotice(rp_key=audience, version=text.version,
                   title=text.title or NOTICE_TITLE, body=text.body, pupil_body=pupil_body)
    db.session.add(row)
    db.session.flush()
    record("rp_notice_published", target=audience[:128], version=text.version)
    return row, True


def list_notices() -> list[dict]:
    counts = dict(db.session.execute(
        select(RPNoticeAcknowledgment.notice_id, func.count())
        .group_by(RPNoticeAcknowledgment.notice_id)).all())
    rows = db.session.scalars(select(RPNotice).order_by(
        RPNotice.rp_key, RPNotice.published_at.desc(), RPNotice.id.desc())).all()
    seen: set[str] = set()
    out = []
    for row in rows:
        out.append({"rp": row.rp_key, "version": row.version, "title": row.title,
                    "published_at": row.published_at.isoformat(),
                    "current": row.rp_key not in seen,
                    "pupil_wording": row.pupil_body is not None,
                    "acknowledgments": counts.get(row.id, 0)})
        seen.add(row.rp_key)
    return out

