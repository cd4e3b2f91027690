// Sends the SAML message on to the service provider (SAML HTTP-POST binding).
// A file, not an inline script: the pages' CSP forbids inline scripts.
(function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
})();
