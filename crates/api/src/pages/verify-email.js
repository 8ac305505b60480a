"use strict";
window.Keyholder.redeem("/auth/verify-email", "Verifying your email address…", function (r) {
  if (r.status === 200) {
    return ["verified", "Your email address is verified. You can close this page."];
  } else if (r.status === 409) {
    return ["used", "This link has already been used: your email address was verified with it."];
  } else if (r.status === 410) {
    return ["expired", "This link has expired. Sign in and ask for a new verification email."];
  } else if (r.status === 404) {
    return ["invalid", "This link is not valid: it may have been replaced by a newer one. Use the newest email."];
  }
  return null;
});
