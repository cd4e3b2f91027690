"""The attribute schema of config/saml_attributes.toml and the values it computes."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from idp.config import PROJECT_ROOT  # noqa: E402
from idp.saml.attributes import AttributeConfigError, AttributeSchema  # noqa: E402

SCHEMA_FILE = PROJECT_ROOT / "config" / "saml_attributes.toml"
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"


@pytest.fixture(scope="module")
def schema():
    return AttributeSchema.load(SCHEMA_FILE)


def person(profile="parent", level="2d", **kw):
    school = SimpleNamespace(uai=kw.pop("uai", "0540042A"), name="Collège", level=level)
    data = dict(public_id=f"id-{profile}", identifier=f"x.{profile}", first_name="Léa",
                last_name="Durand", email=None, academy_code="nancy-metz",
                profile=SimpleNamespace(value=profile), school=school, class_name=None,
                birth_date=None)
    data.update(kw)
    account = SimpleNamespace(**data)
    account.display_name = f"{account.first_name} {account.last_name}"
    return account


def values(schema, account, names, pupils=()):
    return schema.values(account, names, {"logout_url": "https://idp/",
                                          "pupils": lambda: list(pupils)})


def test_fredu_names_are_oids_under_the_education_arc(schema):
    for name in ("FrEduCtId", "FrEduCtPersonAffiliation", "FrEduCtEleveUAI",
                 "FrEduCtDateNaissance", "FrEduUrlRetour"):
        spec = schema.specs[name]
        assert spec.name.startswith("urn:oid:1.3.6.1.4.1.20326.10.999.1.") and spec.name_format == URI
    assert schema.specs["FrEduCtId"].name.endswith(".57")
    assert schema.specs["eduPersonPrincipalName"].name == "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
    assert schema.specs["FrEduVecteur"].name == "FrEduVecteur"  # read by name by ENT code


def test_parent_gets_one_vector_per_linked_pupil(schema):
    parent = person()
    pupils = [person("pupil", public_id="p1", first_name="Léo"),
              person("pupil", level="1d", public_id="p2", uai="0540099Z")]
    got = values(schema, parent, ["FrEduVecteur", "FrEduCtPersonAffiliation",
                                  "FrEduCtEleveUAI"], pupils)
    assert got["FrEduVecteur"] == ["2|Durand|Léa|p1|0540042A", "1|Durand|Léa|p2|0540099Z"]
    assert got["FrEduCtPersonAffiliation"] == ["resp2d"]
    assert got["FrEduCtEleveUAI"] == ["0540042A", "0540099Z"]


def test_pupil_vector_affiliation_and_class(schema):
    pupil = person("pupil", level="1d", class_name="CM2")
    got = values(schema, pupil, ["FrEduVecteur", "FrEduCtPersonAffiliation",
                                 "ENTEleveClasses", "eduPersonAffiliation"])
    assert got == {"FrEduVecteur": ["3|Durand|Léa|id-pupil|0540042A"],
                   "FrEduCtPersonAffiliation": ["eleve1d"],
                   "ENTEleveClasses": ["0540042A$CM2"], "eduPersonAffiliation": ["student"]}


def test_missing_values_are_left_out_never_sent_empty(schema):
    got = values(schema, person("pupil"), ["ENTEleveClasses", "FrEduCtDateNaissance", "mail"])
    assert got == {}


def test_birth_date_only_when_asked(schema):
    pupil = person("pupil", birth_date=date(2012, 3, 14))
    assert "FrEduCtDateNaissance" not in values(schema, pupil, schema.resolve("ent"))
    got = values(schema, pupil, ["FrEduCtDateNaissance", "ENTPersonDateNaissance"])
    assert got == {"FrEduCtDateNaissance": ["2012-03-14"], "ENTPersonDateNaissance": ["14/03/2012"]}


def test_only_the_names_asked_are_computed(schema):
    got = values(schema, person(), ["FrEduCtId"], pupils=[person("pupil")])
    assert got == {"FrEduCtId": ["id-parent"]}


def test_scoped_and_templated_values(schema):
    got = values(schema, person(), ["eduPersonPrincipalName", "FrEduCtRefId", "FrEduUrlRetour"])
    assert got["eduPersonPrincipalName"] == ["id-parent@connexion-scolarite.education.fr"]
    assert got["FrEduCtRefId"] == ["{AAF}nancy-metz|0540042A|id-parent"]
    assert got["FrEduUrlRetour"] == ["https://idp/"]


def test_resolve_profiles_lists_and_unknown_names(schema):
    assert schema.resolve("minimal") == ["FrEduCtId"]
    assert schema.resolve("sn, givenName,sn") == ["sn", "givenName"]
    assert "FrEduCtDateNaissance" in schema.resolve("ent,FrEduCtDateNaissance")
    with pytest.raises(AttributeConfigError, match="Password"):
        schema.resolve("sn,Password")
    with pytest.raises(AttributeConfigError):
        schema.resolve("")


def test_a_broken_file_is_refused():
    with pytest.raises(AttributeConfigError):
        AttributeSchema({"attributes": {"x": {"name": "x", "format": "weird", "value": "1"}}})
    with pytest.raises(AttributeConfigError, match="unknown"):
        AttributeSchema({"attributes": {}, "profiles": {"p": ["nope"]}})
