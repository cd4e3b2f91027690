"""`idp demo load`: academies, a school, a demo family and the demo relying parties.

Idempotent: running it again updates what exists. The demo clients' secrets are written to
var/demo_clients.json (read by the apps in clients/), since only their hashes are stored.
"""
from __future__ import annotations

import json
import os
import secrets
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..config import PROJECT_ROOT
from ..db import db
from ..extensions import academies, passwords
from ..journeys.franceconnect.demo import load_franceconnect_demo, reset_franceconnect_demo
from ..journeys.signup.demo import load_signup_demo
from ..models import Academy, Account, AccountState, GuardianLink, OIDCClient, School
from ..oidc.clients import hash_secret, register_client
from ..roster.demo import load_demo_letters
from ..saml.registry import register_sp
from .accounts import create_account
from .charters import publish_charter, publish_notice

DEMO_SCHOOL = {"uai": "0540042A", "name": "Collège Jean Moulin", "academy_code": "nancy-metz"}

DEMO_ACCOUNTS = [
    {"identifier": "m.durand1", "password": "Parent-Demo-2026", "profile": "parent",
     "first_name": "Marie", "last_name": "Durand", "email": "marie.durand@example.org"},
    {"identifier": "l.durand1", "password": "Eleve-Demo-2026", "profile": "pupil",
     "first_name": "Léo", "last_name": "Durand", "class_name": "4e B",
     "birth_date": date(2012, 3, 14)},
    {"identifier": "e.durand2", "password": "Eleve-Demo-2026", "profile": "pupil",
     "first_name": "Emma", "last_name": "Durand", "class_name": "6e A",
     "birth_date": date(2014, 9, 2)},
]


def demo_clients() -> list[dict]:
    """The demo relying parties, at the ports `make run` starts them on."""
    ent = os.environ.get("DEMO_ENT_URL", "http://127.0.0.1:5001")
    pronote = os.environ.get("DEMO_PRONOTE_URL", "http://127.0.0.1:5002")
    return [
        {"key": "ent", "name": "ENT", "url": ent, "token_auth_method": "client_secret_basic"},
        {"key": "pronote", "name": "PRONOTE", "url": pronote,
         "token_auth_method": "client_secret_post"},
    ]


def _upsert_client(spec: dict) -> dict:
    url = spec["url"]
    row = db.session.scalar(select(OIDCClient).where(OIDCClient.name == spec["name"]))
    secret = secrets.token_urlsafe(32)
    if row is None:
        row = register_client(
            name=spec["name"], redirect_uris=[url + "/callback"],
            post_logout_redirect_uris=[url + "/"],
            backchannel_logout_uri=url + "/backchannel-logout",
            token_auth_method=spec["token_auth_method"], client_secret=secret,
            client_id=f"demo-{spec['key']}").row
    else:
        row.redirect_uris = [url + "/callback"]
        row.post_logout_redirect_uris = [url + "/"]
        row.backchannel_logout_uri = url + "/backchannel-logout"
        row.secret_hash = hash_secret(secret)
        row.enabled = True
    return {"name": row.name, "client_id": row.client_id, "client_secret": secret,
            "url": url, "token_auth_method": row.token_endpoint_auth_method}


def load_demo() -> dict:
    for code, name in academies().items():
        if not db.session.scalar(select(Academy).where(Academy.code == code)):
            db.session.add(Academy(code=code, name=name))
    school = db.session.scalar(select(School).where(School.uai == DEMO_SCHOOL["uai"]))
    if school is None:
        school = School(**DEMO_SCHOOL)
        db.session.add(school)
        db.session.flush()
    accounts = {}
    for spec in DEMO_ACCOUNTS:
        spec = dict(spec)
        account = db.session.scalar(select(Account).where(Account.identifier == spec["identifier"]))
        if account is None:
            account = create_account(academy="nancy-metz", active=True, school=school, **spec)
        else:
            account.password_hash = passwords().hash(spec["password"])
            account.state = AccountState.active
        accounts[spec["identifier"]] = account
    parent = accounts["m.durand1"]
    for pupil_id in ("l.durand1", "e.durand2"):
        pupil = accounts[pupil_id]
        if not db.session.scalar(select(GuardianLink).where(
                GuardianLink.guardian_id == parent.id, GuardianLink.pupil_id == pupil.id)):
            db.session.add(GuardianLink(guardian_id=parent.id, pupil_id=pupil.id))
    clients = [_upsert_client(spec) for spec in demo_clients()]
    gating = _gating_demo()
    saml_sps = [_register_teleservices()]
    out = Path(current_app.config["DEMO_CLIENTS_FILE"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({c["name"]: c for c in clients}, indent=2))
    out.chmod(0o600)
    letters = load_demo_letters(school)  # J3: provisional accounts with a fresh letter
    reset_franceconnect_demo()  # her FranceConnect link too, so the first link is shown again
    signup = load_signup_demo()  # J4: a parent the schools know, without an account
    franceconnect = load_franceconnect_demo()  # J4b: names written otherwise by the school
    return {
        "school": DEMO_SCHOOL,
        "accounts": [{"identifier": s["identifier"], "password": s["password"],
                      "profile": s["profile"]} for s in DEMO_ACCOUNTS] + letters,
        "clients": [{k: c[k] for k in ("name", "client_id", "url")} for c in clients],
        "clients_file": str(out),
        "gating": gating,
        "saml_service_providers": saml_sps,
        "signup": signup,
        "franceconnect": franceconnect,
    }


def _register_teleservices() -> dict:
    """The demo SAML SP « Téléservices » (clients/teleservices.py): its key, certificate
    and metadata are made under var/teleservices/ and registered (refreshed if present)."""
    # The demo SP is outside the idp package (and imports idp.saml itself): the IdP does
    # not depend on its demo relying parties unless the demo is loaded.
    from clients.teleservices import sp_metadata

    url = os.environ.get("DEMO_TELESERVICES_URL", "http://127.0.0.1:5003")
    row = register_sp(metadata=sp_metadata(url), attributes="teleservices", sign_mode="both",
                      name="Téléservices", update=True)
    return {"name": row.name, "entity_id": row.entity_id, "url": url}


def _gating_demo() -> dict:
    """J5 in the demo: the general charter (config/charter/), PRONOTE's one-time notice
    (config/notices/), and the ENT and PRONOTE marked as the school's own services (no
    consent page; the Téléservices SP shows one)."""
    for client_id in ("demo-ent", "demo-pronote"):
        row = db.session.scalar(select(OIDCClient).where(OIDCClient.client_id == client_id))
        row.trusted_for_school = True
    charter, _ = publish_charter(PROJECT_ROOT / "config" / "charter" / "general-2026-09.md")
    notice, _ = publish_notice(PROJECT_ROOT / "config" / "notices" / "pronote-2026-09.md",
                               rp_key="oidc:demo-pronote")
    return {"charter": charter.version, "notices": {notice.rp_key: notice.version}}
