"""Typed SQLAlchemy 2.0 mappings. Data only: the rules live in the journeys' services."""
from .base import Base, UTCDateTime, utcnow
from .accounts import Account, AccountProfile, AccountState
from .schools import Academy, School, GuardianLink
from .clients import OIDCClient
from .tokens import RefreshToken
from .audit import AuditEvent
from .consent import (CharterAcceptance, CharterVersion, Consent, ContactPreferences,
                      RPNotice, RPNoticeAcknowledgment)
from .saml import SAMLServiceProvider
from .school_records import (PupilRecord, RecordGuardianLink, RepresentativeRecord,
                             RosterImport)
from .onetime import OneTimeToken
from .outbox import OutboxMessage
from .signup import DeclinedGuardianLink
from .staff import StaffAccount, StaffRole, StaffSchool
from .second_factor import RecoveryCode, SecondFactor
from .signing_keys import SigningKey
from .franceconnect import FranceConnectLink
from .password_campaigns import PasswordCampaign, PasswordChangeDemand

__all__ = [
    "Base", "UTCDateTime", "utcnow", "Account", "AccountProfile", "AccountState", "Academy", "School",
    "GuardianLink", "OIDCClient", "RefreshToken", "AuditEvent",
    "CharterVersion", "CharterAcceptance", "ContactPreferences", "RPNotice",
    "RPNoticeAcknowledgment", "Consent",
    "SAMLServiceProvider",
    "PupilRecord", "RepresentativeRecord", "RecordGuardianLink", "RosterImport",
    "OneTimeToken", "OutboxMessage",
    "DeclinedGuardianLink",
    "StaffAccount", "StaffRole", "StaffSchool",
    "SecondFactor", "RecoveryCode",
    "SigningKey",
    "FranceConnectLink",
    "PasswordCampaign", "PasswordChangeDemand",
]
