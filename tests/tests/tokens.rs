//! Access tokens: every kind of bad token answers 401 problem+json.

use base64::Engine;
use chrono::Duration;
use keyholder_tests::{NOBODY, TEST_JWT_SECRET, TestApp, on_both_backends, sign};
use serde_json::json;

on_both_backends!(
    missing_token_is_401_with_a_bearer_challenge,
    malformed_tokens_are_401,
    tokens_signed_with_another_secret_are_401,
    alg_none_tokens_are_401,
    expired_tokens_are_401,
    tokens_missing_claims_or_naming_no_user_are_401,
    tokens_carry_identity_only,
);

/// The claims of a genuine token.
fn claims_of(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64");
    serde_json::from_slice(&bytes).expect("json")
}

/// The credentials version a genuine token of this session carries.
fn ver_of(token: &str) -> i64 {
    claims_of(token)["ver"].as_i64().expect("ver")
}

/// The session a genuine token belongs to.
fn sid_of(token: &str) -> String {
    claims_of(token)["sid"].as_str().expect("sid").to_owned()
}

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

async fn missing_token_is_401_with_a_bearer_challenge(app: TestApp) {
    let reply = app.try_me(&NOBODY).await;
    reply.assert_problem(401, "missing_token");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}

async fn malformed_tokens_are_401(app: TestApp) {
    for value in ["Bearer", "Bearer ", "Bearer abc", "Bearer a.b.c", "Basic YWRhOnB3", "token"] {
        let res = app
            .client
            .get(app.url("/api/v1/me"))
            .header("Authorization", value)
            .send()
            .await
            .expect("answer");
        let reply = TestApp::reply(res).await;
        reply.assert_problem(401, "invalid_token");
    }
}

async fn tokens_signed_with_another_secret_are_401(app: TestApp) {
    let ada = app.register("ada").await;
    let now = chrono::Utc::now().timestamp();
    let (ver, sid) = (ver_of(&ada.token), sid_of(&ada.token));
    let claims =
        json!({"sub": ada.id, "iat": now, "exp": now + 600, "jti": "x", "ver": ver, "sid": sid});
    let forged = sign(&claims, "another-secret-another-secret-another-secret");
    app.try_me(&forged).await.assert_problem(401, "invalid_token");
    // The same claims with the right secret work, so the refusal is the signature.
    let genuine = sign(&claims, TEST_JWT_SECRET);
    app.try_me(&genuine).await.assert_status(200);
    // Tampering with the payload of a genuine token breaks it.
    let parts: Vec<&str> = ada.token.split('.').collect();
    let other = app.register("bob").await;
    let tampered_payload = b64(&json!({"sub": other.id, "iat": now, "exp": now + 600, "jti": "y"}));
    let tampered = format!("{}.{}.{}", parts[0], tampered_payload, parts[2]);
    app.try_me(&tampered).await.assert_problem(401, "invalid_token");
}

async fn alg_none_tokens_are_401(app: TestApp) {
    let ada = app.register("ada").await;
    let now = chrono::Utc::now().timestamp();
    let payload = b64(
        &json!({"sub": ada.id, "iat": now, "exp": now + 600, "jti": "x", "ver": ver_of(&ada.token), "sid": sid_of(&ada.token)}),
    );
    for header in
        [json!({"alg": "none", "typ": "JWT"}), json!({"alg": "None"}), json!({"alg": "HS512"})]
    {
        for sig in ["", "AAAA"] {
            let token = format!("{}.{}.{}", b64(&header), payload, sig);
            app.try_me(&token).await.assert_problem(401, "invalid_token");
        }
    }
}

async fn expired_tokens_are_401(app: TestApp) {
    let ada = app.register("ada").await;
    app.try_me(&ada).await.assert_status(200);
    app.clock.advance(Duration::seconds(31_536_001));
    app.try_me(&ada).await.assert_problem(401, "token_expired");
}

async fn tokens_missing_claims_or_naming_no_user_are_401(app: TestApp) {
    let ada = app.register("ada").await;
    let now = chrono::Utc::now().timestamp();
    let (ver, sid) = (ver_of(&ada.token), sid_of(&ada.token));
    for claims in [
        json!({"sub": ada.id, "iat": now, "exp": now + 600, "ver": ver, "sid": sid}),
        json!({"sub": ada.id, "exp": now + 600, "jti": "x", "ver": ver, "sid": sid}),
        json!({"iat": now, "exp": now + 600, "jti": "x", "ver": ver, "sid": sid}),
        json!({"sub": ada.id, "iat": now, "jti": "x", "ver": ver, "sid": sid}),
        json!({"sub": ada.id, "iat": now, "exp": now + 600, "jti": "x", "sid": sid}),
        json!({"sub": ada.id, "iat": now, "exp": now + 600, "jti": "x", "ver": ver}),
        json!({"sub": ada.id, "iat": now, "exp": now + 600, "jti": "x", "ver": ver, "sid": "x"}),
        json!({"sub": "not-a-uuid", "iat": now, "exp": now + 600, "jti": "x", "ver": ver, "sid": sid}),
    ] {
        let token = sign(&claims, TEST_JWT_SECRET);
        app.try_me(&token).await.assert_problem(401, "invalid_token");
    }
    // Well formed, but naming no account, or a session that is not the
    // account's: the session check refuses it.
    let bob = app.register("bob").await;
    for claims in [
        json!({"sub": uuid::Uuid::new_v4(), "iat": now, "exp": now + 600, "jti": "x", "ver": ver, "sid": sid}),
        json!({"sub": ada.id, "iat": now, "exp": now + 600, "jti": "x", "ver": ver, "sid": sid_of(&bob.token)}),
        json!({"sub": ada.id, "iat": now, "exp": now + 600, "jti": "x", "ver": ver, "sid": uuid::Uuid::new_v4()}),
    ] {
        let token = sign(&claims, TEST_JWT_SECRET);
        app.try_me(&token).await.assert_problem(401, "session_ended");
    }
}

async fn tokens_carry_identity_only(app: TestApp) {
    let ada = app.register("ada").await;
    let payload = ada.token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64");
    let claims: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    let mut keys: Vec<&str> =
        claims.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["exp", "iat", "jti", "sid", "sub", "ver"]);
    assert_eq!(claims["sub"], ada.id.as_str());
    assert_eq!(claims["sid"], ada.session_id.as_str());
    // The lifetime the tests configure (a year; the default is 15 minutes).
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        31_536_000
    );
    let header = ada.token.split('.').next().expect("header");
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).expect("b64"),
    )
    .expect("json");
    assert_eq!(header["alg"], "HS256");
}
