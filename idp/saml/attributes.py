"""The ÉduConnect/ENT attribute schema: what an account looks like to a SAML SP.

Names, SAML Names/OIDs, name formats and value templates come from
`config/saml_attributes.toml` (loaded once per app); this module only computes the
fields the templates use. An SP receives the attributes registered for it and nothing
else: `values()` is asked for exactly those names.
"""
from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from saml2.saml import NAME_FORMAT_BASIC, NAME_FORMAT_URI

FORMATS = {"uri": NAME_FORMAT_URI, "basic": NAME_FORMAT_BASIC}


class AttributeConfigError(ValueError):
    """The attribute file or an attribute list given at registration is not usable."""


@dataclass(frozen=True)
class AttributeSpec:
    """One releasable attribute: its friendly name, SAML Name, NameFormat and templates."""
    friendly_name: str
    name: str
    name_format: str
    templates: dict  # "parent"/"pupil" -> template or None
    description: str = ""

    def per_pupil(self, profile: str) -> bool:
        return "{pupil." in (self.templates.get(profile) or "")


class AttributeSchema:
    """The attribute file, parsed and checked once."""

    def __init__(self, data: dict):
        self.settings = dict(data.get("settings", {}))
        self.specs: dict[str, AttributeSpec] = {}
        for friendly, raw in data.get("attributes", {}).items():
            fmt = raw.get("format", "uri")
            if fmt not in FORMATS or not raw.get("name"):
                raise AttributeConfigError(f"attribute {friendly}: needs a name and format uri|basic")
            common = raw.get("value")
            templates = {"parent": raw.get("parent", common), "pupil": raw.get("pupil", common)}
            for template in filter(None, templates.values()):
                _check_template(friendly, template)
            self.specs[friendly] = AttributeSpec(friendly, raw["name"], FORMATS[fmt], templates,
                                                 raw.get("description", ""))
        self.profiles: dict[str, list[str]] = {}
        for profile, names in data.get("profiles", {}).items():
            unknown = [n for n in names if n not in self.specs]
            if unknown:
                raise AttributeConfigError(f"profile {profile}: unknown attributes {unknown}")
            self.profiles[profile] = list(names)

    @classmethod
    def load(cls, path: str | Path) -> "AttributeSchema":
        with open(path, "rb") as fh:
            return cls(tomllib.load(fh))

    def resolve(self, profile_or_list: str | list[str]) -> list[str]:
        """A profile name or a comma-separated list -> attribute names (checked)."""
        if isinstance(profile_or_list, str):
            if profile_or_list.strip() in self.profiles:
                return list(self.profiles[profile_or_list.strip()])
            profile_or_list = [n.strip() for n in profile_or_list.split(",") if n.strip()]
        # A profile may appear in a list too: "ent,FrEduCtDateNaissance".
        profile_or_list = [m for n in profile_or_list for m in self.profiles.get(n, [n])]
        unknown = [n for n in profile_or_list if n not in self.specs]
        if unknown or not profile_or_list:
            raise AttributeConfigError(
                f"unknown attributes or profile: {', '.join(unknown) or '(none)'}; known "
                f"profiles: {', '.join(self.profiles)}; attributes: {', '.join(self.specs)}")
        return list(dict.fromkeys(profile_or_list))

    def values(self, account, names: list[str], context: dict) -> dict[str, list[str]]:
        """{friendly name: [values]} of `names` for `account` (missing values left out).

        `context` gives `scope`, `logout_url` and `pupils` (a callable returning the linked
        pupils, called only when a per-pupil attribute is asked)."""
        profile = account.profile.value
        fields = account_fields(account, self.settings, context)
        pupils = None
        released: dict[str, list[str]] = {}
        for name in names:
            spec = self.specs.get(name)
            template = spec.templates.get(profile) if spec else None
            if not template:
                continue
            if spec.per_pupil(profile):
                if pupils is None:
                    pupils = [SimpleNamespace(**account_fields(p, self.settings, context, guardian=True))
                              for p in context["pupils"]()]
                values = [_render(template, dict(fields, pupil=p)) for p in pupils]
            else:
                values = [_render(template, fields)]
            values = list(dict.fromkeys(v for v in values if v is not None))
            if values:
                released[name] = values
        return released


def _check_template(name: str, template: str) -> None:
    try:
        list(string.Formatter().parse(template))
    except ValueError as exc:
        raise AttributeConfigError(f"attribute {name}: bad template {template!r}: {exc}") from exc


def _render(template: str, fields: dict) -> str | None:
    """The template filled in, or None when a field it uses is missing or empty."""
    try:
        for _, field, _, _ in string.Formatter().parse(template):
            if field is None:
                continue
            head, _, attr = field.partition(".")
            value = fields.get(head)
            if attr:
                value = getattr(value, attr, None)
            if value in (None, ""):
                return None
        return template.format(**fields)
    except (KeyError, AttributeError, IndexError):
        return None


def _level(account) -> str:
    return "1d" if account.school is not None and account.school.level == "1d" else "2d"


def account_fields(account, settings: dict, context: dict, guardian: bool = False) -> dict:
    """The fields a template can use, for one account (see config/saml_attributes.toml)."""
    level = _level(account)
    is_pupil = account.profile.value == "pupil"
    birth = account.birth_date
    fields = {
        "public_id": account.public_id, "identifier": account.identifier,
        "first_name": account.first_name, "last_name": account.last_name,
        "display_name": account.display_name, "email": account.email,
        "academy": account.academy_code, "profile": account.profile.value,
        "affiliation": ("eleve" if is_pupil else "resp") + level,
        "school_uai": account.school.uai if account.school else None,
        "school_name": account.school.name if account.school else None,
        "school_level": level, "class_name": account.class_name,
        "birth_date": birth.isoformat() if birth else None,
        "birth_date_fr": birth.strftime("%d/%m/%Y") if birth else None,
        "vector_profile": settings.get(f"vector_pupil_{level}") if is_pupil else None,
        "scope": settings.get("scope"), "logout_url": context.get("logout_url"),
    }
    if guardian:
        fields["guardian_vector_profile"] = settings.get(f"vector_guardian_{level}")
    return fields
