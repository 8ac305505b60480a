//! The pages emailed links open: served by the API process, self-contained,
//! under a strict Content-Security-Policy, with the token kept out of URLs.

use keyholder_tests::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_served_with_a_strict_policy_and_no_inline_code() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for (path, script) in [
        ("/verify-email", "/pages/verify-email.js"),
        ("/confirm-email", "/pages/confirm-email.js"),
        ("/reset-password", "/pages/reset-password.js"),
        ("/invitations/accept", "/pages/accept-invitation.js"),
    ] {
        let res = app.client.get(app.url(path)).send().await.expect("answer");
        assert_eq!(res.status(), 200, "{path}");
        let headers = res.headers().clone();
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("text/html; charset=utf-8")
        );
        let csp =
            headers.get("content-security-policy").and_then(|v| v.to_str().ok()).expect("csp");
        assert!(
            csp.contains("default-src 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe"),
            "{csp}"
        );
        assert_eq!(
            headers.get("referrer-policy").and_then(|v| v.to_str().ok()),
            Some("no-referrer")
        );
        let html = res.text().await.expect("html");
        assert!(html.contains(&format!("<script src=\"{script}\"></script>")), "{path}");
        assert!(!html.contains("<script>") && !html.contains("style="), "{path} has inline code");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{path} loads something external"
        );
        // Every input has a label.
        for id in html.split("<input id=\"").skip(1).map(|s| s.split('"').next().expect("id")) {
            assert!(html.contains(&format!("<label for=\"{id}\">")), "{path}: #{id} has no label");
        }
        let js = app.client.get(app.url(script)).send().await.expect("answer");
        assert_eq!(js.status(), 200);
        assert!(
            js.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|c| c.starts_with("text/javascript"))
        );
    }
    let common = app
        .client
        .get(app.url("/pages/common.js"))
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("js");
    assert!(common.contains("history.replaceState"), "the fragment is cleared after reading");
    assert!(
        !common.contains("localStorage")
            && !common.contains("sessionStorage")
            && !common.contains("document.cookie")
    );
    app.get("/pages/nothing.js", None).await.assert_problem(404, "not_found");
}
