"""SAML 2.0 as a ProtocolAdapter: how the sign-in engine answers a service provider."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, session

from .. import metrics
from ..audit import record
from ..signin import PendingAuthorization, ProtocolAdapter
from ..signin.session import note_relying_party
from . import logout_chain, responses
from .requests import find_sp


def idp():
    return current_app.extensions["idp"]["saml"]


def post_to_acs(info: dict, sp, xml: str):
    """The auto-submitted form that carries a SAMLResponse to the SP's verified ACS."""
    return responses.post_page(info["acs_url"], "SAMLResponse", xml, info.get("relay_state"),
                               sp.name)


class SamlAdapter(ProtocolAdapter):
    protocol = "saml"

    def begin(self, info, account):
        """`info`: the AuthnRequest the endpoint already checked (requests.py: signature,
        registered ACS, freshness), as plain data."""
        sp = find_sp(info["sp"])
        acs = urlsplit(info["acs_url"])
        return PendingAuthorization(
            protocol="saml", client_id=sp.entity_id, client_name=sp.name, params=info,
            force_login=info["force_authn"], passive=info["is_passive"],
            requested=list(sp.attributes), return_origin=f"{acs.scheme}://{acs.netloc}"), None

    def fulfil(self, pending, account, validated=None):
        """The signed Response (or the NameIDPolicy error) for the AuthnRequest."""
        info = pending.params
        sp = find_sp(info["sp"])
        try:
            xml, entry = responses.success_response(idp(), sp, info, account,
                                                    session.get("auth_time") or 0)
        except responses.NameIdPolicyError:
            xml = responses.error_response(idp(), sp, info,
                                           responses.STATUS["name_id_policy"],
                                           "NameID format not supported")
            metrics.SAML_RESPONSES.labels(outcome="name_id_policy").inc()
        else:
            responses.remember_for_logout(entry)
            note_relying_party("saml", sp.entity_id)
            record("saml_response_issued", actor=account.identifier,
                   target=sp.entity_id[:128])
            metrics.SAML_RESPONSES.labels(outcome="success").inc()
        return post_to_acs(info, sp, xml)

    def deny(self, pending, account):
        """RequestDenied at the SP's registered ACS: the family declined."""
        sp = find_sp(pending.client_id)
        xml = responses.error_response(idp(), sp, pending.params, responses.STATUS["denied"],
                                       "The user declined")
        metrics.SAML_RESPONSES.labels(outcome="denied").inc()
        return post_to_acs(pending.params, sp, xml)

    def passive_error(self, pending, step, validated=None):
        """IsPassive and a step is due: NoPassive, whatever the step."""
        sp = find_sp(pending.client_id)
        xml = responses.error_response(idp(), sp, pending.params,
                                       responses.STATUS["no_passive"],
                                       "IsPassive: the user must interact with the IdP")
        metrics.SAML_RESPONSES.labels(outcome="passive").inc()
        return post_to_acs(pending.params, sp, xml)

    def session_ended(self, snapshot: dict) -> None:
        logout_chain.capture(snapshot)  # the SPs the browser must visit (front channel)

    def front_channel_logout(self, url: str):
        return logout_chain.after_logout(url)
