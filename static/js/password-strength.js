// Live feedback on the sign-up password page: ticks the rules as they are met and shows
// the strength while typing. The same rules run on the server (idp/journeys/signup/
// strength.py), which shows them after a submit when JavaScript is off.
// A file, not an inline script: the pages' CSP forbids inline scripts.
(function () {
  "use strict";
  var box = document.getElementById("password-strength");
  var input = document.getElementById("password");
  if (!box || !input) { return; }
  var common = ["azerty123!", "motdepasse1!", "password1!", "p@ssw0rd", "soleil123!"];
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
    else if (!all || common.indexOf(value.toLowerCase()) >= 0) { level = "weak"; }
    else if (length >= 14) { level = "very_strong"; }
    else if (length >= 10) { level = "strong"; }
    return { met: met, level: level };
  }
  var scores = { empty: 0, weak: 1, medium: 2, strong: 3, very_strong: 4 };
  var label = box.querySelector("[data-strength-label]");
  var meter = box.querySelector("[data-strength-meter]");
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
    label.textContent = box.getAttribute("data-level-" + result.level);
    label.className = "strength-label strength-" + result.level;
    if (meter) { meter.value = scores[result.level]; }
  }
  input.addEventListener("input", update);
})();
