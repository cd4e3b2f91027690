"""What keeps SAML SSO for a signed-in browser cheap (bench/saml_bench.py), checked so it
does not come back: the SP row read once per request, no session rewrite for a repeat
SSO, one SessionIndex per (session, SP), no temporary file per response."""
from __future__ import annotations

import tempfile

from sqlalchemy import event

from idp.db import db
from tests.support.saml import send, sign_in_via


class _Spy:
    """Counts SQL statements on the app's engine and writes to the real store."""

    def __init__(self, app, monkeypatch):
        self.sql: list[str] = []
        self.writes: list[str] = []
        with app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._statement)
        store = app.extensions["idp"]["store"]
        original = store.set

        def spying_set(key, *args, **kwargs):
            self.writes.append(key)
            return original(key, *args, **kwargs)
        monkeypatch.setattr(store, "set", spying_set)

    def _statement(self, conn, cursor, statement, *args):
        self.sql.append(statement)

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._statement)


def test_repeat_sso_reads_the_sp_once_and_leaves_the_session_alone(
        app, browser, make, new_sp, monkeypatch):
    sp = new_sp()
    account = make.account(with_pupils=1)
    first_id, page = sign_in_via(browser, sp, account)
    first = sp.consume(page.text, first_id)
    spy = _Spy(app, monkeypatch)
    try:
        req_id, args = sp.authn_request()
        page = send(browser.client, args)
    finally:
        spy.close()
    assert page.status_code == 200 and "SAMLResponse" in page.text
    again = sp.consume(page.text, req_id)  # verified and decrypted by the SP
    sp_reads = [s for s in spy.sql if "FROM saml_service_providers" in s]
    assert len(sp_reads) == 1, sp_reads
    assert "metadata_xml" not in sp_reads[0]  # only the Server build reads the metadata
    assert not [k for k in spy.writes if "sess:" in k], spy.writes
    index = again.assertion.authn_statement[0].session_index
    assert index == first.assertion.authn_statement[0].session_index
    assert again.name_id.text == first.name_id.text
    # Each response is still fresh: its own IDs and a new audit row.
    assert again.assertion.id != first.assertion.id
    with app.app_context():
        from idp.models import AuditEvent
        assert db.session.query(AuditEvent).filter_by(action="saml_response_issued").count() == 2


def test_session_index_differs_between_sps_and_after_a_new_sign_in(app, browser, make, new_sp):
    one, two = new_sp("one.example"), new_sp("two.example")
    account = make.account()
    req_id, page = sign_in_via(browser, one, account)
    index_one = one.consume(page.text, req_id).assertion.authn_statement[0].session_index
    req_id, page = sign_in_via(browser, two, account)
    index_two = two.consume(page.text, req_id).assertion.authn_statement[0].session_index
    assert index_one != index_two
    browser.client.delete_cookie("idp_session")  # a new browser session, same family
    req_id, page = sign_in_via(browser, one, account)
    assert one.consume(page.text, req_id).assertion.authn_statement[0].session_index \
        != index_one


def test_no_temporary_file_per_encrypted_response(browser, make, new_sp, monkeypatch):
    sp = new_sp()
    account = make.account()
    sign_in_via(browser, sp, account)
    created = []
    original = tempfile.NamedTemporaryFile

    def counting(*args, **kwargs):
        created.append(args)
        return original(*args, **kwargs)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", counting)
    import saml2.sigver
    monkeypatch.setattr(saml2.sigver, "NamedTemporaryFile", counting)
    req_id, args = sp.authn_request()
    page = send(browser.client, args)
    monkeypatch.undo()
    assert "EncryptedAssertion" in sp.consume(page.text, req_id).raw_xml
    assert created == []


def test_an_sp_with_unusable_metadata_does_not_rebuild_the_server_each_request(
        app, client, new_sp, caplog):
    """An SP whose metadata no longer loads (expired, malformed) is parsed again only when
    its row changes: its entity id is public, and a rebuild parses every SP's metadata."""
    from datetime import datetime, timezone

    from idp.models import SAMLServiceProvider

    sp = new_sp()
    with app.app_context():
        row = db.session.query(SAMLServiceProvider).filter_by(entity_id=sp.entity_id).one()
        row.metadata_xml = "<md:EntityDescriptor broken"
        row.updated_at = datetime.now(timezone.utc)
        db.session.commit()
    caplog.set_level("INFO", logger="idp.saml.server")
    for _ in range(3):
        page = send(client, sp.authn_request()[1])
        assert page.status_code == 400 and "invalide" in page.text  # the refusal page
    built = [r for r in caplog.records if r.getMessage().startswith("SAML server built")]
    unusable = [r for r in caplog.records if "metadata not usable" in r.getMessage()]
    assert len(built) <= 1 and len(unusable) <= 1
    with app.app_context():
        from idp.models import AuditEvent
        reasons = [e.details.get("reason", "") for e in db.session.query(AuditEvent)
                   .filter_by(action="saml_request_refused")]
    # One row: the same SP refused from the same address within a minute (record_paced).
    assert len(reasons) == 1 and "metadata is not usable" in reasons[0]
