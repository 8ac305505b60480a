//! Typed steps the scenarios share, so tests read like the seed's stories:
//! each asserts the success status and returns what a frontend would keep.

use serde_json::json;

use crate::{Asset, Bearer, Estate, Invited, Reply, Session, Site, TestApp};

impl TestApp {
    /// Signs in (200 expected) and returns the access token.
    pub async fn sign_in(&self, login: &str, password: &str) -> String {
        let r = self.login(login, password).await;
        r.assert_status(200);
        r.str("access_token")
    }

    /// Registers and verifies each of `names`: their sessions, in order.
    pub async fn register_verified_each<const N: usize>(&self, names: [&str; N]) -> [Session; N] {
        let mut sessions = Vec::with_capacity(N);
        for name in names {
            sessions.push(self.register_verified(name).await);
        }
        sessions.try_into().expect("one session a name")
    }

    /// Creates an estate (201 expected; the creator is its owner).
    pub async fn create_estate(&self, by: &(impl Bearer + ?Sized), name: &str) -> Estate {
        let estate: Estate = self.try_create_estate(by, json!({"name": name})).await.expect(201);
        assert_eq!(estate.my_role.as_deref(), Some("owner"));
        estate
    }

    /// Creates a site in an estate (201 expected).
    pub async fn create_site(&self, by: &(impl Bearer + ?Sized), estate: &str, name: &str) -> Site {
        self.try_create_site(by, estate, json!({"name": name})).await.expect(201)
    }

    /// Registers and verifies `owner`, who creates an estate named `estate`:
    /// the owner and the estate's id.
    pub async fn owner_with_estate(&self, estate: &str) -> (Session, String) {
        let owner = self.register_verified("owner").await;
        let id = self.create_estate(&owner, estate).await.id;
        (owner, id)
    }

    /// Registers and verifies `owner`, who creates a personal asset named
    /// `name`: the owner and the asset's id.
    pub async fn owner_with_vehicle(&self, name: &str) -> (Session, String) {
        let owner = self.register_verified("owner").await;
        let id = self.create_vehicle(&owner, name, None).await.id;
        (owner, id)
    }

    /// An estate named `estate` with one site named `site`, both by `owner`.
    pub async fn estate_with_site(
        &self,
        owner: &Session,
        estate: &str,
        site: &str,
    ) -> (String, String) {
        let estate = self.create_estate(owner, estate).await.id;
        let site = self.create_site(owner, &estate, site).await.id;
        (estate, site)
    }

    /// Creates an asset from a JSON body (201 expected).
    pub async fn create_asset(
        &self,
        by: &(impl Bearer + ?Sized),
        body: serde_json::Value,
    ) -> Asset {
        self.try_create_asset(by, body).await.expect(201)
    }

    /// Creates a personal asset (201, and the creator has full access).
    pub async fn create_vehicle(&self, by: &Session, name: &str, reference: Option<&str>) -> Asset {
        let asset = self.create_asset(by, json!({"name": name, "reference": reference})).await;
        assert_eq!(asset.my_access, "full");
        asset
    }

    /// Creates an asset at a site (201 expected).
    pub async fn create_asset_at(&self, by: &Session, name: &str, site: &str) -> Asset {
        self.create_asset(by, json!({"name": name, "site_id": site})).await
    }

    /// The caller's access level to an asset, or `None` when it answers 404.
    pub async fn my_access(&self, user: &(impl Bearer + ?Sized), asset: &str) -> Option<String> {
        let r = self.try_get_asset(user, asset).await;
        match r.status {
            200 => Some(r.str("my_access")),
            404 => None,
            other => panic!("unexpected {other}: {}", r.text),
        }
    }

    /// Grants a verified user an estate role at once (201, "granted").
    pub async fn grant_role(
        &self,
        by: &(impl Bearer + ?Sized),
        estate: &str,
        user: &Session,
        role: &str,
    ) {
        let r =
            self.try_invite_to_estate(by, estate, json!({"email": user.email, "role": role})).await;
        r.assert_status(201);
        assert_eq!(r.body["outcome"], "granted", "{}", r.text);
    }

    /// Invites an email without an account to an estate (202, "invited")
    /// and waits for the email: the invitation and its token.
    pub async fn invite_to_estate(
        &self,
        by: &Session,
        estate: &str,
        email: &str,
        role: &str,
    ) -> Invited {
        let r = self
            .try_invite_to_estate(
                by,
                estate,
                json!({"email": email, "role": role, "message": "Welcome aboard"}),
            )
            .await;
        r.assert_status(202);
        assert_eq!(r.body["outcome"], "invited");
        let id = r.body["invitation"]["id"].as_str().expect("id").to_owned();
        let n = self.emails_to(email, "invited you").len().max(1);
        let mail = self.wait_for_nth_email(email, "invited you", n).await;
        Invited { id, token: mail.token() }
    }

    /// Sends an asset invitation (201) and waits for its email: the
    /// invitation and its token.
    pub async fn send_asset_invitation(
        &self,
        by: &Session,
        asset: &str,
        email: &str,
        permission: &str,
    ) -> Invited {
        let n = self.emails_to(email, "invited you").len() + 1;
        let r = self
            .try_send_asset_invitation(
                by,
                json!({"asset_id": asset, "email": email, "permission": permission}),
            )
            .await;
        r.assert_status(201);
        let mail = self.wait_for_nth_email(email, "invited you", n).await;
        Invited { id: r.str("id"), token: mail.token() }
    }

    /// Races twelve answers to one invitation, taking turns from `first`:
    /// accept (as `invitee`), decline by token, and cancel (as `owner`, at
    /// `cancel_path`). Asserts one winner (200) and 409 for all the others.
    pub async fn race_accept_decline_cancel(
        &self,
        token: &str,
        invitee: &Session,
        owner: &Session,
        cancel_path: &str,
        first: usize,
    ) {
        let mut tasks = Vec::new();
        for i in 0..12 {
            let (client, base) = (self.client.clone(), self.address.clone());
            let (token, invitee, owner, cancel) = (
                token.to_owned(),
                invitee.token.clone(),
                owner.token.clone(),
                cancel_path.to_owned(),
            );
            tasks.push(tokio::spawn(async move {
                let req = match (i + first) % 3 {
                    0 => client
                        .post(format!("{base}/api/v1/invitations/accept"))
                        .bearer_auth(invitee)
                        .json(&json!({"token": token})),
                    1 => client
                        .post(format!("{base}/api/v1/invitations/decline"))
                        .json(&json!({"token": token})),
                    _ => client.post(format!("{base}{cancel}")).bearer_auth(owner).json(&json!({})),
                };
                req.send().await.expect("answer").status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.expect("join"));
        }
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    }

    /// Accepts an invitation by its token while signed in (200 expected).
    pub async fn accept_invitation(&self, by: &Session, token: &str) -> Reply {
        let r = self.try_accept_invitation(by, json!({"token": token})).await;
        r.assert_status(200);
        r
    }

    /// Adds a collaborator to an asset (201 expected).
    pub async fn add_collaborator(&self, by: &Session, asset: &str, username: &str) {
        self.try_add_collaborator(by, asset, json!({"username": username}))
            .await
            .assert_status(201);
    }

    /// Adds a member to the head's household with a role (201 expected).
    pub async fn household_add(&self, head: &Session, member: &Session, role: &str) {
        self.try_household_add(head, json!({"username": member.username, "role": role}))
            .await
            .assert_status(201);
    }

    /// Why `user` has (or lacks) access to a resource, asked by `by`.
    pub async fn explain(&self, by: &Session, user: &Session, kind: &str, id: &str) -> Reply {
        let query = format!("?user_id={}&resource_type={kind}&resource_id={id}", user.id);
        self.try_explain(by, query).await
    }

    /// Sets a member's role at a site (200 expected).
    pub async fn set_site_role(&self, by: &Session, site: &str, user: &Session, role: &str) {
        self.try_set_site_override(by, site, &user.id, role).await.assert_status(200);
    }
}

/// Shortcuts for the requests the suites send most, by their arguments
/// rather than a JSON body: `name(by; path arguments; body fields) => the
/// raw operation`. Each body field is a string; the reply is returned as
/// the server gave it.
macro_rules! shortcuts {
    ($($(#[doc = $doc:literal])* $name:ident($($by:ident)?; $($p:ident),*; $($f:ident),*) => $raw:ident;)*) => {
        impl TestApp { $(
            $(#[doc = $doc])*
            pub async fn $name(&self, $($by: &(impl Bearer + ?Sized),)? $($p: impl std::fmt::Display,)* $($f: &str),*) -> Reply {
                #[allow(unused_mut, reason = "a shortcut without fields sends {}")]
                let mut body = serde_json::Map::new();
                $(body.insert(stringify!($f).to_owned(), $f.into());)*
                self.$raw($($by,)? $($p,)* body.into()).await
            }
        )* }
    };
}

shortcuts! {
    /// Signs in; the reply as the server gave it.
    login(; ; login, password) => try_login_with;
    /// Registers without the test's defaults.
    try_register_as(; ; email, username, password) => try_register;
    /// Confirms an email address with the emailed token.
    try_verify(; ; token) => try_verify_email;
    /// Asks for a password reset email.
    try_forgot_password(; ; email) => try_request_password_reset;
    /// Sets a new password with the emailed reset token.
    try_reset_password(; ; token, password) => try_confirm_password_reset;
    /// Changes the caller's password.
    try_new_password(by; ; current_password, new_password) => try_change_password;
    /// Creates an estate by name.
    try_add_estate(by; ; name) => try_create_estate;
    /// Creates a site in an estate by name.
    try_add_site(by; estate; name) => try_create_site;
    /// Creates an asset at a site.
    try_add_asset_at(by; ; name, site_id) => try_create_asset;
    /// Hands an estate to another member.
    try_transfer_to(by; estate; user_id) => try_transfer_ownership;
    /// Adds a collaborator by username.
    try_collaborate(by; asset; username) => try_add_collaborator;
    /// Invites an email to an asset with a permission.
    try_share_asset(by; ; asset_id, email, permission) => try_send_asset_invitation;
    /// What an invitation link shows before signing in.
    try_preview(; ; token) => try_preview_invitation;
    /// Declines an invitation by its token.
    try_decline(; ; token) => try_decline_invitation;
    /// Creates an account through an invitation link.
    try_sign_up(; ; token, username, password) => try_accept_signup;
    /// Accepts an invitation by its token.
    try_accept(by; ; token) => try_accept_invitation;
    /// Invites an email to an estate with a role (201 granted to a
    /// verified account, 202 emailed otherwise).
    try_invite(by; estate; email, role) => try_invite_to_estate;
    /// Invites an email to an estate with a role, the invitation expiring
    /// at `expires_at`.
    try_invite_until(by; estate; email, role, expires_at) => try_invite_to_estate;
    /// Invites an email to an asset from its own route, the access ending
    /// at `access_expires_at`.
    try_share_until(by; asset; email, permission, access_expires_at) => try_invite_to_asset;
    /// Cancels an estate's invitation (an empty body).
    try_cancel_invite(by; estate, invitation; ) => try_cancel_estate_invitation;
    /// Adds a username to the caller's household.
    try_add_to_household(by; ; username, role) => try_household_add;
    /// Sets a member's estate role (`user` is their id).
    try_set_role(by; estate, user; role) => try_set_estate_role;
    /// Sets (or, with `none`, keeps off) a member's role at a site.
    try_set_site_override(by; site, user; role) => try_set_site_role;
}
