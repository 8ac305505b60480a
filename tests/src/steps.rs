//! Typed steps the scenarios share, so tests read like the seed's stories:
//! each asserts the success status and returns what a frontend would keep.

use serde_json::json;

use crate::{Asset, Bearer, Estate, Invited, Reply, Session, Site, TestApp};

impl TestApp {
    /// Signs in; the reply as the server gave it.
    pub async fn login(&self, login: &str, password: &str) -> Reply {
        self.try_login_with(json!({"login": login, "password": password}))
            .await
    }

    /// Signs in (200 expected) and returns the access token.
    pub async fn sign_in(&self, login: &str, password: &str) -> String {
        let r = self.login(login, password).await;
        r.assert_status(200);
        r.str("access_token")
    }

    /// Creates an estate (201 expected; the creator is its owner).
    pub async fn create_estate(&self, by: &(impl Bearer + ?Sized), name: &str) -> Estate {
        let estate: Estate = self
            .try_create_estate(by, json!({"name": name}))
            .await
            .expect(201);
        assert_eq!(estate.my_role.as_deref(), Some("owner"));
        estate
    }

    /// Creates a site in an estate (201 expected).
    pub async fn create_site(&self, by: &(impl Bearer + ?Sized), estate: &str, name: &str) -> Site {
        self.try_create_site(by, estate, json!({"name": name}))
            .await
            .expect(201)
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
        let asset = self
            .create_asset(by, json!({"name": name, "reference": reference}))
            .await;
        assert_eq!(asset.my_access, "full");
        asset
    }

    /// Creates an asset at a site (201 expected).
    pub async fn create_asset_at(&self, by: &Session, name: &str, site: &str) -> Asset {
        self.create_asset(by, json!({"name": name, "site_id": site}))
            .await
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
        let r = self
            .try_invite_to_estate(by, estate, json!({"email": user.email, "role": role}))
            .await;
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
        Invited {
            id,
            token: mail.token(),
        }
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
        Invited {
            id: r.str("id"),
            token: mail.token(),
        }
    }

    /// Accepts an invitation by its token while signed in (200 expected).
    pub async fn accept_invitation(&self, by: &Session, token: &str) -> Reply {
        let r = self
            .try_accept_invitation(by, json!({"token": token}))
            .await;
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

    /// Sets a member's estate role; the reply as the server gave it.
    pub async fn try_set_role(
        &self,
        by: &(impl Bearer + ?Sized),
        estate: &str,
        user: &Session,
        role: &str,
    ) -> Reply {
        self.try_set_estate_role(by, estate, &user.id, json!({"role": role}))
            .await
    }

    /// Sets (or, with `none`, keeps off) a member's role at a site; the
    /// reply as the server gave it.
    pub async fn try_set_site_override(
        &self,
        by: &(impl Bearer + ?Sized),
        site: &str,
        user: &Session,
        role: &str,
    ) -> Reply {
        self.try_set_site_role(by, site, &user.id, json!({"role": role}))
            .await
    }

    /// Invites an email to an estate with a role; the reply as the server
    /// gave it (201 granted to a verified account, 202 emailed otherwise).
    pub async fn try_invite(
        &self,
        by: &(impl Bearer + ?Sized),
        estate: &str,
        email: &str,
        role: &str,
    ) -> Reply {
        self.try_invite_to_estate(by, estate, json!({"email": email, "role": role}))
            .await
    }

    /// Adds a username to the caller's household; the reply as the server
    /// gave it.
    pub async fn try_add_to_household(
        &self,
        head: &(impl Bearer + ?Sized),
        username: &str,
        role: &str,
    ) -> Reply {
        self.try_household_add(head, json!({"username": username, "role": role}))
            .await
    }

    /// Accepts an invitation by its token; the reply as the server gave it.
    pub async fn try_accept(&self, by: &(impl Bearer + ?Sized), token: &str) -> Reply {
        self.try_accept_invitation(by, json!({"token": token}))
            .await
    }

    /// Sets a member's role at a site (200 expected).
    pub async fn set_site_role(&self, by: &Session, site: &str, user: &Session, role: &str) {
        self.try_set_site_override(by, site, user, role)
            .await
            .assert_status(200);
    }
}
