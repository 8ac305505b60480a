"use strict";
(function () {
  var K = window.Keyholder;
  var token = K.takeToken();
  var form = document.getElementById("form");
  var submit = document.getElementById("submit");
  if (!token) {
    form.classList.add("hidden");
    K.result("invalid", "This link has no token. Open the link from the email again.");
    return;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var password = document.getElementById("password").value;
    var again = document.getElementById("password2").value;
    if (password !== again) {
      K.result("mismatch", "The two passwords are not the same.");
      return;
    }
    if (password.length < 10) {
      K.result("weak", "The password must be at least 10 characters long.");
      return;
    }
    K.busy(submit, true);
    K.post("/auth/password-reset/confirm", { token: token, password: password }).then(function (r) {
      K.busy(submit, false);
      if (r.status === 204) {
        token = null;
        form.classList.add("hidden");
        K.result("done", "Your password is changed. Sign in with the new password.");
      } else if (r.status === 422) {
        K.result("weak", "The password is not accepted: " + (K.fieldErrors(r.body) || "choose another one") + ".");
      } else if (r.status === 409) {
        form.classList.add("hidden");
        K.result("used", "This link has already been used. Ask for a new one if you need to reset again.");
      } else if (r.status === 410) {
        form.classList.add("hidden");
        K.result("expired", "This link has expired (links work for one hour). Ask for a new one.");
      } else if (r.status === 404) {
        form.classList.add("hidden");
        K.result("invalid", "This link is not valid: it may have been replaced by a newer one.");
      } else {
        K.result("error", "Something went wrong (" + r.status + "). Try again in a moment.");
      }
    });
  });
})();
