"""No enumeration in J4: details that match no record get the same status, the same page
and comparable timing as details that do, and no SMS; a wrong code reads the same too."""
from __future__ import annotations

import re
import statistics
import time

from ..support.browser import Browser, hidden_fields
from ..support.signup import make_family, plain, sms_to

DYNAMIC = re.compile(r'(name="(?:csrf_token|flow|attempt)"[^>]*value=")[^"]*"|'
                     r'(value=")[^"]*("[^>]*name="(?:csrf_token|flow|attempt)")')


def shape(page, phone_shown: str) -> str:
    """The page without what differs by nature: tokens, and the number typed."""
    text = DYNAMIC.sub(lambda m: (m.group(1) or m.group(2)) + '-"' + (m.group(3) or "")[1:],
                       page.text)
    return text.replace(phone_shown, "<phone>")


def first_page(app, last_name, first_name, phone):
    browser = Browser(app.test_client())
    page = browser.get("/inscription")
    fields = {**hidden_fields(page.text), "last_name": last_name, "first_name": first_name,
              "phone": phone, "region": "FR"}
    response = browser.client.post("/inscription", data=fields)
    return browser, response


def test_match_no_match_and_existing_account_look_the_same(app):
    make_family(app, phone="+33611223301")
    make_family(app, phone="+33611223303", account_state="active", identifier="j.petit9")
    cases = {
        "match": ("Petit", "Jeanne", "06 11 22 33 01", "+33 6 11 22 33 01"),
        "wrong names": ("Petitt", "Jeanne", "06 11 22 33 02", "+33 6 11 22 33 02"),
        "existing": ("Petit", "Jeanne", "06 11 22 33 03", "+33 6 11 22 33 03"),
        "unknown number": ("Durand", "Paul", "06 11 22 33 04", "+33 6 11 22 33 04"),
    }
    shapes, wrong_code = {}, {}
    for name, (last, first, phone, shown) in cases.items():
        browser, response = first_page(app, last, first, phone)
        assert response.status_code == 302, name
        assert response.location.endswith("/inscription/code"), name
        page = browser.get("/inscription/code")
        assert page.status_code == 200
        shapes[name] = shape(page, shown)
        page = browser.submit_page({"code": "000000"})
        assert page.status_code == 400, name
        wrong_code[name] = shape(page, shown)
    assert len(set(shapes.values())) == 1, "the code page differs"
    assert len(set(wrong_code.values())) == 1, "a wrong code reads differently"
    assert "Il reste 2 essais" in plain(page)
    # SMS: a code to the family, the identifier to the account holder, nothing else.
    assert len(sms_to(app, "+33611223301")) == 1
    assert sms_to(app, "+33611223302") == [] and sms_to(app, "+33611223304") == []
    assert "j.petit9" in sms_to(app, "+33611223303")[0]


def test_the_limits_answer_the_same_whether_or_not_details_match(app):
    make_family(app, phone="+33611223301")
    for phone in ("06 11 22 33 01", "06 11 22 33 02"):
        first_page(app, "Petit", "Jeanne", phone)
        _browser, again = first_page(app, "Petit", "Jeanne", phone)
        assert again.status_code == 429
        assert "Un SMS vient d'être envoyé à ce numéro" in plain(again)


def test_timing_is_comparable(app, config):
    """Median time of the first page's POST, matching vs not, interleaved."""
    config(SMS_MAX_PER_IP_HOUR=10000)
    rounds = 15
    for n in range(rounds):
        make_family(app, phone=f"+336112240{n:02d}")
    matched, unmatched = [], []
    for n in range(rounds):
        for phone, bucket in ((f"06 11 22 40 {n:02d}", matched),
                              (f"06 11 22 50 {n:02d}", unmatched)):
            browser = Browser(app.test_client())
            page = browser.get("/inscription")
            fields = {**hidden_fields(page.text), "last_name": "Petit",
                      "first_name": "Jeanne", "phone": phone, "region": "FR"}
            start = time.perf_counter()
            response = browser.client.post("/inscription", data=fields)
            bucket.append(time.perf_counter() - start)
            assert response.status_code == 302
    a, b = statistics.median(matched), statistics.median(unmatched)
    print(f"first page POST median: match {a * 1000:.1f} ms, no match {b * 1000:.1f} ms")
    assert len(sms_to(app, "+33611224000")) == 1 and sms_to(app, "+33611225000") == []
    # The only extra work for a match is one outbox row: a few milliseconds at most.
    assert abs(a - b) < max(0.25 * max(a, b), 0.010), (a, b)
