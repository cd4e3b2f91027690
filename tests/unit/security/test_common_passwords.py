"""The shipped common/leaked password list (issue 17, point 4): 100,000+ entries, sorted,
binary-searched, exact; the policy refuses them wherever a password is chosen."""
from __future__ import annotations

import gzip

from idp.security import common_passwords
from idp.security.common_passwords import is_common
from idp.security.passwords import FRENCH_COMMON, policy_problems


def test_the_list_is_large_sorted_and_shipped_as_package_data():
    assert common_passwords.DATA.is_file()
    assert common_passwords.size() >= 100_000
    lines = gzip.open(common_passwords.DATA, "rb").read().split(b"\n")[:-1]
    assert lines == sorted(set(lines))


def test_leaked_passwords_are_found_in_any_case_and_with_a_special_added():
    for password in ("qwerty123", "QWERTY123", "Qwerty123!", "Password1!", "P@ssw0rd",
                     "Azerty123!", "Iloveyou1", "Football1?!", *FRENCH_COMMON):
        assert is_common(password), password


def test_uncommon_passwords_pass():
    for password in ("Trousse-Verte-2027", "Zz9!kqpwlxvb", "Cartable-Rouge-7", "Ézôè-Çà-42!",
                     "", "!!!!"):
        assert not is_common(password), password


def test_the_policy_refuses_a_leaked_password_that_meets_every_rule():
    problems = [str(p) for p in policy_problems("Sunshine2!")]
    assert problems == ["Ce mot de passe est trop courant."]
    assert policy_problems("Trousse-Verte-2027") == []
