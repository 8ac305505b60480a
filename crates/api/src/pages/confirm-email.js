"use strict";
window.Keyholder.redeem("/auth/email-change/confirm", "Confirming your new email address…", function (r) {
  if (r.status === 200) {
    return ["verified", "Your account now uses this email address. You can close this page."];
  } else if (r.status === 409 && r.body && r.body.code === "email_taken") {
    return ["taken", "Another account started using this address meanwhile, so nothing changed."];
  } else if (r.status === 409) {
    return ["used", "This link has already been used: your account moved to this address with it."];
  } else if (r.status === 410) {
    return ["expired", "This link has expired. Sign in and ask for the change again."];
  } else if (r.status === 404) {
    return ["invalid", "This link is not valid: it may have been replaced by a newer one. Use the newest email."];
  }
  return null;
});
