"""Console staff, with a TOTP secret known to the test (as printed by `idp staff create`).

    StaffFactory()                                operator
    StaffFactory(auditor=True)                    read-only
    StaffFactory(school_staff=True, schools=[..]) limited to their schools
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import factory
import pyotp

from idp.admin.staff import create_staff

from .base import AppFactory, next_number

STAFF_PASSWORD = "Console-Bleue-2026!"


@dataclass
class MadeStaff:
    identifier: str
    password: str
    secret: str
    recovery_codes: list[str]
    role: str
    used_steps: set = field(default_factory=set)

    def code(self) -> str:
        """A currently valid code not used yet (the console refuses a replayed step)."""
        now = time.time()
        for drift in (0, 1, -1):
            step = int(now // 30) + drift
            if step not in self.used_steps:
                self.used_steps.add(step)
                return pyotp.TOTP(self.secret).at(step * 30)
        raise AssertionError("three sign-ins of one staff member within 30 seconds")


class StaffFactory(AppFactory):
    class Meta:
        model = MadeStaff

    class Params:
        operator = factory.Trait(role="operator")
        auditor = factory.Trait(role="auditor")
        school_staff = factory.Trait(role="school_staff")

    identifier = factory.LazyFunction(lambda: f"agent.{next_number()}")
    password = STAFF_PASSWORD
    role = "operator"
    schools = ()

    @classmethod
    def make_row(cls, *, schools, **fields):
        return create_staff(schools=list(schools), with_totp=True, actor="test", **fields)

    @classmethod
    def made(cls, created, values):
        _, enrolment = created
        return MadeStaff(values["identifier"], values["password"], enrolment.secret,
                         enrolment.recovery_codes, values["role"])
