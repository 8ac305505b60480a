// Shared helpers of the emailed-link pages. The token arrives in the URL
// fragment, is read once, and the fragment is removed at once: it is kept in
// memory only, never in the URL, a cookie or storage.
"use strict";

window.Keyholder = (function () {
  function takeToken() {
    var hash = window.location.hash.replace(/^#/, "");
    var token = null;
    hash.split("&").forEach(function (part) {
      var kv = part.split("=");
      if (kv[0] === "token" && kv[1]) {
        token = decodeURIComponent(kv[1]);
      }
    });
    if (window.location.hash) {
      window.history.replaceState(null, "", window.location.pathname);
    }
    return token;
  }

  function post(path, body, accessToken) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (accessToken) {
      headers["Authorization"] = "Bearer " + accessToken;
    }
    return fetch("/api/v1" + path, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    }).then(function (res) {
      return res.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        return { status: res.status, body: json };
      });
    }, function () {
      return { status: 0, body: null };
    });
  }

  // The whole of a page that redeems its link's token at once: posts it to
  // `path` and shows what `outcome` makes of the answer ([state, text]).
  function redeem(path, working, outcome) {
    var token = takeToken();
    if (!token) {
      result("invalid", "This link has no token. Open the link from the email again.");
      return;
    }
    result("working", working);
    post(path, { token: token }).then(function (r) {
      token = null;
      var shown = outcome(r) || ["error", "Something went wrong (" + r.status + "). Try again in a moment."];
      result(shown[0], shown[1]);
    });
  }

  function result(state, text) {
    var el = document.getElementById("result");
    el.setAttribute("data-state", state);
    el.textContent = text;
    el.focus();
  }

  function fieldErrors(body) {
    if (!body || !body.errors) { return ""; }
    return Object.keys(body.errors).map(function (k) {
      return k.replace(/_/g, " ") + " " + body.errors[k];
    }).join("; ");
  }

  function busy(button, on) {
    if (button) { button.disabled = on; }
  }

  return { takeToken: takeToken, post: post, redeem: redeem, result: result, fieldErrors: fieldErrors, busy: busy };
})();
