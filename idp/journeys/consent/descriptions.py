"""What a relying party will receive, in plain French: OIDC scopes and SAML attribute
names (config/saml_attributes.toml) turned into sentences a family understands.

Several technical names say the same thing to a family (FrEduCtId, ENTPersonIdentifiant,
eduPersonPrincipalName are all "an identifier"): the page lists each sentence once.
Technical values that tell nothing about the person (FrEduUrlRetour) are not listed.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from ...models import Account, AccountProfile


def _identifier():
    return _("Un identifiant technique qui vous représente auprès de ce service (il ne "
             "contient ni votre nom ni votre mot de passe)")


def _profile():
    return _("Votre profil : élève ou représentant légal")


def _school(parent: bool):
    return _("L'établissement des élèves rattachés à votre compte") if parent \
        else _("Votre établissement")


def _class(parent: bool):
    return _("La classe des élèves rattachés à votre compte") if parent else _("Votre classe")


def _oidc(item: str, parent: bool) -> str | None:
    if item == "openid":
        return _identifier()
    if item == "profile":
        return _("Vos nom et prénom, et votre identifiant de connexion")
    if item == "email":
        return _("Votre adresse électronique")
    if item == "education":
        if parent:
            return _("Votre profil (représentant légal), votre académie, et pour chaque "
                     "élève rattaché à votre compte : ses nom et prénom, son établissement "
                     "et sa classe")
        return _("Votre profil (élève), votre académie, votre établissement et votre classe")
    if item == "offline_access":
        return _("Un accès à ces informations même quand vous n'êtes pas connecté, pendant "
                 "%(days)s jours au plus", days=current_app.config["REFRESH_TOKEN_DAYS"])
    return _("L'information « %(name)s »", name=item)


def _saml(item: str, parent: bool) -> str | None:
    if item in ("FrEduCtId", "ENTPersonIdentifiant", "eduPersonPrincipalName"):
        return _identifier()
    if item in ("FrEduCtPersonAffiliation", "ENTPersonProfils", "eduPersonAffiliation",
                "eduPersonScopedAffiliation"):
        return _profile()
    if item == "FrEduCtRefId":
        return _("Une référence vers votre fiche dans l'annuaire de l'académie")
    if item == "FrEduVecteur":
        if parent:
            return _("Vos nom et prénom, et pour chaque élève rattaché à votre compte : son "
                     "identifiant technique et son établissement")
        return _("Vos nom et prénom, votre identifiant technique et votre établissement")
    if item in ("FrEduCtEleveUAI", "ENTPersonStructRattach"):
        return _school(parent)
    if item == "ENTEleveClasses":
        return _class(parent)
    if item in ("FrEduCtDateNaissance", "ENTPersonDateNaissance"):
        return _("Votre date de naissance")
    if item == "sn":
        return _("Votre nom")
    if item == "givenName":
        return _("Votre prénom")
    if item == "displayName":
        return _("Vos nom et prénom")
    if item == "mail":
        return _("Votre adresse électronique")
    if item == "ENTPersonLogin":
        return _("Votre identifiant de connexion")
    if item == "FrEduUrlRetour":
        return None  # the IdP's logout address: nothing about the person
    return _("L'information « %(name)s »", name=item)


def describe(protocol: str, items, account: Account | None = None) -> list[str]:
    """The sentences for what `items` release, each once, in the order asked."""
    parent = account is not None and account.profile == AccountProfile.parent
    describe_one = _oidc if protocol == "oidc" else _saml
    out: list[str] = []
    for item in items:
        sentence = describe_one(item, parent)
        if sentence is not None and sentence not in out:
            out.append(sentence)
    return out
