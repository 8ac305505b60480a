"use strict";
(function () {
  var K = window.Keyholder;
  var token = K.takeToken();
  if (!token) {
    K.result("invalid", "This link has no token. Open the link from the email again.");
    return;
  }
  K.result("working", "Confirming your new email address…");
  K.post("/auth/email-change/confirm", { token: token }).then(function (r) {
    token = null;
    if (r.status === 200) {
      K.result("verified", "Your account now uses this email address. You can close this page.");
    } else if (r.status === 409 && r.body && r.body.code === "email_taken") {
      K.result("taken", "Another account started using this address meanwhile, so nothing changed.");
    } else if (r.status === 409) {
      K.result("used", "This link has already been used: your account moved to this address with it.");
    } else if (r.status === 410) {
      K.result("expired", "This link has expired. Sign in and ask for the change again.");
    } else if (r.status === 404) {
      K.result("invalid", "This link is not valid: it may have been replaced by a newer one. Use the newest email.");
    } else {
      K.result("error", "Something went wrong (" + r.status + "). Try again in a moment.");
    }
  });
})();
