"use strict";
(function () {
  var K = window.Keyholder;
  var token = K.takeToken();
  var offer = null;
  var actions = document.getElementById("actions");

  function set(id, text) {
    document.getElementById(id).textContent = text;
  }

  function when(iso) {
    if (!iso) { return "Never"; }
    var d = new Date(iso);
    return isNaN(d.getTime()) ? iso : d.toLocaleString();
  }

  function what() {
    return offer.resource_type === "asset" ? offer.resource.name : "the estate " + offer.resource.name;
  }

  function granted(role) {
    if (offer.resource_type === "asset") {
      return "You can now " + role + " " + offer.resource.name + ".";
    }
    return "You are now " + role + " of the estate " + offer.resource.name + ".";
  }

  function finalState(status) {
    actions.classList.add("hidden");
    var messages = {
      expired: "This invitation has expired. Ask " + offer.invited_by.display_name + " to send a new one.",
      cancelled: "This invitation was cancelled by the sender.",
      accepted: "This invitation has already been accepted.",
      declined: "This invitation was declined."
    };
    K.result(status, messages[status] || ("This invitation is " + status + "."));
  }

  function outcome(r) {
    if (r.status === 200 || r.status === 201) {
      token = null;
      actions.classList.add("hidden");
      var role = r.body && r.body.role ? r.body.role : offer.role;
      if (r.body && r.body.user) { role = offer.role; }
      K.result("accepted", granted(role));
      set("offer-status", "accepted");
    } else if (r.status === 403) {
      K.result("wrong_account", "You are signed in as someone else: this invitation was sent to " + offer.email + ". Sign in with that address.");
    } else if (r.status === 410) {
      finalState("expired");
    } else if (r.status === 409 && r.body && r.body.code === "email_registered") {
      K.result("email_registered", "An account with " + offer.email + " already exists: sign in above to accept.");
    } else if (r.status === 409 && r.body && r.body.code === "username_taken") {
      K.result("error", "That username is taken; choose another.");
    } else if (r.status === 409 && r.body && r.body.invitation_status) {
      finalState(r.body.invitation_status);
    } else if (r.status === 404) {
      actions.classList.add("hidden");
      K.result("invalid", "This invitation link is not valid: it may have been replaced by a newer one.");
    } else if (r.status === 422) {
      K.result("error", "Please check the form: " + K.fieldErrors(r.body) + ".");
    } else if (r.status === 401) {
      K.result("error", "The login or the password is not correct.");
    } else {
      K.result("error", "Something went wrong (" + r.status + "). Try again in a moment.");
    }
  }

  if (!token) {
    actions.classList.add("hidden");
    K.result("invalid", "This link has no token. Open the link from the email again.");
    return;
  }

  K.post("/invitations/preview", { token: token }).then(function (r) {
    if (r.status !== 200) {
      outcome(r);
      return;
    }
    offer = r.body;
    document.getElementById("offer").classList.remove("hidden");
    set("offer-resource", what());
    set("offer-inviter", offer.invited_by.display_name + " (" + offer.invited_by.username + ")");
    set("offer-role", offer.role);
    set("offer-message", offer.message || "—");
    set("offer-expires", when(offer.expires_at));
    set("offer-status", offer.status);
    set("offer-email", offer.email);
    if (offer.status !== "pending") {
      finalState(offer.status);
      return;
    }
    actions.classList.remove("hidden");
  });

  document.getElementById("signin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var button = document.getElementById("signin-accept");
    K.busy(button, true);
    K.post("/auth/login", {
      login: document.getElementById("login").value,
      password: document.getElementById("login-password").value
    }).then(function (login) {
      if (login.status !== 200) {
        K.busy(button, false);
        outcome(login);
        return null;
      }
      return K.post("/invitations/accept", { token: token }, login.body.access_token).then(function (r) {
        K.busy(button, false);
        outcome(r);
      });
    });
  });

  document.getElementById("signup-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var button = document.getElementById("signup-accept");
    var body = {
      token: token,
      username: document.getElementById("signup-username").value,
      password: document.getElementById("signup-password").value
    };
    var display = document.getElementById("signup-display-name").value.trim();
    if (display) { body.display_name = display; }
    K.busy(button, true);
    K.post("/invitations/accept-signup", body).then(function (r) {
      K.busy(button, false);
      outcome(r);
    });
  });

  document.getElementById("decline").addEventListener("click", function () {
    var button = document.getElementById("decline");
    K.busy(button, true);
    K.post("/invitations/decline", { token: token }).then(function (r) {
      K.busy(button, false);
      if (r.status === 200) {
        token = null;
        actions.classList.add("hidden");
        set("offer-status", "declined");
        K.result("declined", "You declined the invitation to " + what() + ". " + offer.invited_by.display_name + " has been told.");
      } else {
        outcome(r);
      }
    });
  });
})();
