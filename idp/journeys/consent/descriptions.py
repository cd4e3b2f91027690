"""What a relying party will receive, in plain French: OIDC scopes and SAML attribute
names (config/saml_attributes.toml) turned into sentences a family understands, with
"tu" for a pupil and "vous" for a parent (or when nobody is signed in).

Several technical names say the same thing to a family (FrEduCtId, ENTPersonIdentifiant,
eduPersonPrincipalName are all "an identifier"): the page lists each sentence once.
Technical values that tell nothing about the person (FrEduUrlRetour) are not listed.
"""
from __future__ import annotations

from enum import Enum

from flask import current_app
from flask_babel import gettext as _

from ...models import Account, AccountProfile


class Reader(Enum):
    """Who reads the sentences: a pupil ("tu"), a parent, or nobody known ("vous")."""
    pupil = "pupil"
    parent = "parent"
    unknown = "unknown"


def _identifier(who: Reader):
    if who is Reader.pupil:
        return _("Un identifiant technique qui te représente auprès de ce service (il ne "
                 "contient ni ton nom ni ton mot de passe)")
    return _("Un identifiant technique qui vous représente auprès de ce service (il ne "
             "contient ni votre nom ni votre mot de passe)")


def _profile(who: Reader):
    return _("Ton profil : élève ou représentant légal") if who is Reader.pupil \
        else _("Votre profil : élève ou représentant légal")


def _school(who: Reader):
    if who is Reader.parent:
        return _("L'établissement des élèves rattachés à votre compte")
    return _("Ton établissement") if who is Reader.pupil else _("Votre établissement")


def _class(who: Reader):
    if who is Reader.parent:
        return _("La classe des élèves rattachés à votre compte")
    return _("Ta classe") if who is Reader.pupil else _("Votre classe")


def _names(who: Reader):
    return _("Tes nom et prénom") if who is Reader.pupil else _("Vos nom et prénom")


def _email(who: Reader):
    return _("Ton adresse électronique") if who is Reader.pupil \
        else _("Votre adresse électronique")


def _login(who: Reader):
    return _("Ton identifiant de connexion") if who is Reader.pupil \
        else _("Votre identifiant de connexion")


def _oidc(item: str, who: Reader) -> str | None:
    pupil = who is Reader.pupil
    if item == "openid":
        return _identifier(who)
    if item == "profile":
        return _("Tes nom et prénom, et ton identifiant de connexion") if pupil \
            else _("Vos nom et prénom, et votre identifiant de connexion")
    if item == "email":
        return _email(who)
    if item == "education":
        if who is Reader.parent:
            return _("Votre profil (représentant légal), votre académie, et pour chaque "
                     "élève rattaché à votre compte : ses nom et prénom, son établissement "
                     "et sa classe")
        return _("Ton profil (élève), ton académie, ton établissement et ta classe") \
            if pupil else _("Votre profil (élève), votre académie, votre établissement "
                            "et votre classe")
    if item == "offline_access":
        days = current_app.config["REFRESH_TOKEN_DAYS"]
        if pupil:
            return _("Un accès à ces informations même en ton absence, pendant %(days)s "
                     "jours au plus", days=days)
        return _("Un accès à ces informations même en votre absence, pendant %(days)s "
                 "jours au plus", days=days)
    return _("L'information « %(name)s »", name=item)


def _saml(item: str, who: Reader) -> str | None:
    pupil = who is Reader.pupil
    if item in ("FrEduCtId", "ENTPersonIdentifiant", "eduPersonPrincipalName"):
        return _identifier(who)
    if item in ("FrEduCtPersonAffiliation", "ENTPersonProfils", "eduPersonAffiliation",
                "eduPersonScopedAffiliation"):
        return _profile(who)
    if item == "FrEduCtRefId":
        return _("Une référence vers ta fiche dans l'annuaire de l'académie") if pupil \
            else _("Une référence vers votre fiche dans l'annuaire de l'académie")
    if item == "FrEduVecteur":
        if who is Reader.parent:
            return _("Vos nom et prénom, et pour chaque élève rattaché à votre compte : son "
                     "identifiant technique et son établissement")
        return _("Tes nom et prénom, ton identifiant technique et ton établissement") \
            if pupil else _("Vos nom et prénom, votre identifiant technique et votre "
                            "établissement")
    if item in ("FrEduCtEleveUAI", "ENTPersonStructRattach"):
        return _school(who)
    if item == "ENTEleveClasses":
        return _class(who)
    if item in ("FrEduCtDateNaissance", "ENTPersonDateNaissance"):
        return _("Ta date de naissance") if pupil else _("Votre date de naissance")
    if item == "sn":
        return _("Ton nom") if pupil else _("Votre nom")
    if item == "givenName":
        return _("Ton prénom") if pupil else _("Votre prénom")
    if item == "displayName":
        return _names(who)
    if item == "mail":
        return _email(who)
    if item == "ENTPersonLogin":
        return _login(who)
    if item == "FrEduUrlRetour":
        return None  # the IdP's logout address: nothing about the person
    return _("L'information « %(name)s »", name=item)


# SAML attributes that are the names: two of them (or the displayed name) say "your last
# and first names" once, not in three sentences.
_NAMES = {"sn", "givenName", "displayName"}

# FrEduVecteur's sentence already says the names and the school (of the pupil, or of each
# pupil of a parent): with it, those attributes get no sentence of their own.
_IN_VECTOR = _NAMES | {"FrEduCtEleveUAI", "ENTPersonStructRattach"}


def describe(protocol: str, items, account: Account | None = None) -> list[str]:
    """The sentences for what `items` release, each once, in the order asked."""
    who = Reader.unknown if account is None else (
        Reader.parent if account.profile == AccountProfile.parent else Reader.pupil)
    describe_one = _oidc if protocol == "oidc" else _saml
    items = list(items)
    names = _NAMES.intersection(items) if protocol != "oidc" else set()
    in_vector = _IN_VECTOR if protocol != "oidc" and "FrEduVecteur" in items else set()
    out: list[str] = []
    for item in items:
        if item in in_vector:
            continue
        whole = item in names and (len(names) > 1 or item == "displayName")
        sentence = _names(who) if whole else describe_one(item, who)
        if sentence is not None and sentence not in out:
            out.append(sentence)
    return out
