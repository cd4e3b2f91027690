// Live feedback on the sign-up password page: ticks the rules as they are met and shows
// the strength while typing. The same rules run on the server (idp/journeys/signup/
// strength.py), which shows them after a submit when JavaScript is off.
// A file, not an inline script: the pages' CSP forbids inline scripts.
(function () {
  "use strict";
  var box = document.getElementById("password-strength");
  var input = document.getElementById("password");
  if (!box || !input) { return; }
  // Common and leaked passwords: the server's list (128,000+ entries, too big to ship
  // here) gives the verdict through a small endpoint once the rules are met.
  var verdictUrl = box.getAttribute("data-verdict-url");
  var csrf = input.form && input.form.querySelector("input[name=csrf_token]");
  var pending = null;
  var special = /[^\p{L}\p{N}\p{M}\s]|_/u;
  function evaluate(value) {
    var met = {
      upper: /\p{Lu}/u.test(value),
      lower: /\p{Ll}/u.test(value),
      digit: /\p{Nd}/u.test(value),
      special: special.test(value),
      length: Array.from(value).length >= 8
    };
    var all = met.upper && met.lower && met.digit && met.special && met.length;
    var length = Array.from(value).length;
    var level = "medium";
    if (!value) { level = "empty"; }
    else if (!all) { level = "weak"; }
    else if (length >= 14) { level = "very_strong"; }
    else if (length >= 10) { level = "strong"; }
    return { met: met, level: level };
  }
  var scores = { empty: 0, weak: 1, medium: 2, strong: 3, very_strong: 4 };
  var label = box.querySelector("[data-strength-label]");
  var meter = box.querySelector("[data-strength-meter]");
  function show(level) {
    label.textContent = box.getAttribute("data-level-" + level);
    label.className = "strength-label strength-" + level;
    if (meter) { meter.value = scores[level]; }
  }
  function askServer(value) {
    if (!verdictUrl || !window.fetch) { return; }
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(function () {
      var headers = { "Content-Type": "application/json" };
      if (csrf) { headers["X-CSRFToken"] = csrf.value; }
      fetch(verdictUrl, { method: "POST", headers: headers, credentials: "same-origin",
                          body: JSON.stringify({ password: value }) })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (verdict) {
          if (verdict && verdict.level && input.value === value) { show(verdict.level); }
        })
        .catch(function () { /* the submit still gets the server's verdict */ });
    }, 250);
  }
  function update() {
    var result = evaluate(input.value);
    var rules = box.querySelectorAll("[data-rule]");
    for (var i = 0; i < rules.length; i++) {
      var rule = rules[i];
      var ok = result.met[rule.getAttribute("data-rule")];
      rule.classList.toggle("rule-met", ok);
      rule.querySelector(".rule-mark").textContent = ok ? "✓" : (input.value ? "✗" : "○");
      rule.querySelector("[data-rule-state]").textContent =
        input.value ? box.getAttribute(ok ? "data-met" : "data-unmet") : "";
    }
    show(result.level);
    if (result.level !== "empty" && result.level !== "weak") { askServer(input.value); }
  }
  input.addEventListener("input", update);
})();
