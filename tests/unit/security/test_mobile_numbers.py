"""security/mobile_numbers.py: the one list of French phone regions, and what the sign-up
selector, the SMS country codes and the roster import take from it."""
from __future__ import annotations

from idp.roster.rows import parse_phone
from idp.security.mobile_numbers import (INDICATIFS, PHONE_REGIONS, REGION_CODES,
                                         allowed_country_codes, parse_mobile)


def test_the_selector_lists_each_region_once_in_its_order():
    assert [(code, prefix) for code, prefix, _label in INDICATIFS] == [
        ("FR", "+33"), ("GP", "+590"), ("GF", "+594"), ("MQ", "+596"), ("RE", "+262"),
        ("PM", "+508"), ("WF", "+681"), ("NC", "+687"), ("PF", "+689")]


def test_national_numbers_are_tried_in_the_regions_order():
    assert REGION_CODES == ("FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC",
                            "PF", "WF")
    assert len(set(REGION_CODES)) == len(PHONE_REGIONS)


def test_sms_country_codes_default_to_every_region(app):
    with app.app_context():
        assert allowed_country_codes() == {33, 590, 594, 596, 262, 508, 681, 687, 689}
        saved = app.config["SMS_COUNTRY_CODES"]
        app.config["SMS_COUNTRY_CODES"] = [33]
        try:
            assert allowed_country_codes() == {33}
        finally:
            app.config["SMS_COUNTRY_CODES"] = saved


def test_family_and_school_write_overseas_numbers_the_same_way(app):
    with app.app_context():
        assert parse_mobile("0690 12 34 56") == parse_phone("0690123456") == "+590690123456"
        assert parse_mobile("0639 01 23 45", "RE") == parse_phone("0639012345")
