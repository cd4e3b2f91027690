"""Endpoints declared in db.autocommit_endpoints run without a transaction on PostgreSQL
(no BEGIN and COMMIT round trips); their single-statement writes still land."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from idp.db import db
from idp.models import AuditEvent


@pytest.fixture
def isolation_levels(app):
    """The isolation levels set on connections while the test runs."""
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite transactions cost no round trip")
    seen = []

    def note(conn, opts):
        if "isolation_level" in opts:
            seen.append(opts["isolation_level"])

    event.listen(db.engine, "set_connection_execution_options", note)
    yield seen
    event.remove(db.engine, "set_connection_execution_options", note)


def _code_issued(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "oidc_code_issued"))


def test_a_signed_in_authorization_runs_in_autocommit(app, flow, rp, parent,
                                                      isolation_levels):
    flow.code_for(rp, parent)  # signs in, then the code
    before = _code_issued(app)
    isolation_levels.clear()
    flow.code_for(rp, parent)  # signed in: authorize issues the code at once
    assert isolation_levels == ["AUTOCOMMIT"]
    assert _code_issued(app) == before + 1  # its audit row is committed


def test_other_endpoints_keep_their_transaction(client, isolation_levels):
    isolation_levels.clear()
    client.get("/connexion")
    assert isolation_levels == []


def test_declared_endpoints_write_only_single_statements(app):
    """What may run without a transaction: sign-in answers whose only write is their audit
    row. A view that writes several rows that belong together must not be listed."""
    assert db.autocommit_endpoints == {"oidc.authorize", "oidc.fulfil", "saml.sso_redirect",
                                       "saml.sso_resume", "saml.fulfil"}
