// Comfort only: every page works without JavaScript (the server does all the checks).
// - a "show password" button beside each password field;
// - focus on the error summary after a failed submit, so a screen reader reads it first;
// - a second click on a submit button while the page is already being sent is ignored.
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
