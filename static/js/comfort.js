// Comfort only: every page works without JavaScript (the server does all the checks).
// - a "show password" button beside each password field;
// - focus on the error summary after a failed submit, so a screen reader reads it first;
// - a second click on a submit button while the page is already being sent is ignored;
// - a whole date typed or pasted in the first of three date boxes fills the three.
// A file, not an inline script: the pages' CSP forbids inline scripts. Labels come from
// data-* attributes on <body>, translated by the server.
(function () {
  "use strict";
  var labels = document.body.dataset;

  Array.prototype.forEach.call(document.querySelectorAll("input[type=password]"), function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "reveal";
    button.textContent = labels.showPassword;
    button.setAttribute("aria-controls", input.id);
    button.addEventListener("click", function () {
      var shown = input.type === "text";
      input.type = shown ? "password" : "text";
      button.textContent = shown ? labels.showPassword : labels.hidePassword;
    });
    var wrap = document.createElement("div");
    wrap.className = "reveal-wrap";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    wrap.appendChild(button);
    // Back to a password field before sending, so the browser offers to save it.
    if (input.form) {
      input.form.addEventListener("submit", function () { input.type = "password"; });
    }
  });

  // J4's three date boxes: a whole date typed or pasted in the day box ("12/10/2013")
  // fills the three (the server splits it the same way without JavaScript).
  var WHOLE_DATE = /^\s*(\d{1,2})\s*[\/.\- ]\s*(\d{1,2})\s*[\/.\- ]\s*(\d{4})\s*$/;
  Array.prototype.forEach.call(document.querySelectorAll(".date-parts"), function (group) {
    var boxes = group.querySelectorAll("input");
    if (boxes.length !== 3) { return; }
    boxes[0].addEventListener("input", function () {
      var match = WHOLE_DATE.exec(boxes[0].value);
      if (!match || boxes[1].value || boxes[2].value) { return; }
      boxes[0].value = match[1];
      boxes[1].value = match[2];
      boxes[2].value = match[3];
      boxes[2].focus();
    });
  });

  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  Array.prototype.forEach.call(document.querySelectorAll("form[method=post]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sending) { event.preventDefault(); return; }
      form.dataset.sending = "1";
      form.setAttribute("aria-busy", "true");
    });
  });
  // Coming back with the Back button: the form can be sent again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-sending]"), function (form) {
      delete form.dataset.sending;
      form.removeAttribute("aria-busy");
    });
  });
})();
