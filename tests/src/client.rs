//! The raw client: one `try_` method per API operation, named after what a
//! frontend does, returning the [`Reply`] as the server gave it. Paths are
//! written here once; tests name the operation and its arguments. A
//! `query` argument is appended as it is (`""`, or `"?q=van&per_page=5"`).

use std::fmt::Display;

use reqwest::Method;
use serde_json::{Value, json};

use crate::{Reply, Session, TestApp};

/// Whose bearer token a request carries: a [`Session`], a raw token, or
/// [`NOBODY`] for none at all.
pub trait Bearer {
    fn bearer(&self) -> Option<&str>;
}

impl Bearer for Session {
    fn bearer(&self) -> Option<&str> {
        Some(&self.token)
    }
}

impl Bearer for str {
    fn bearer(&self) -> Option<&str> {
        Some(self)
    }
}

impl Bearer for String {
    fn bearer(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: Bearer + ?Sized> Bearer for &T {
    fn bearer(&self) -> Option<&str> {
        (**self).bearer()
    }
}

/// No bearer token: the request is anonymous.
pub struct Nobody;

/// Sends a request without any bearer token.
pub const NOBODY: Nobody = Nobody;

impl Bearer for Nobody {
    fn bearer(&self) -> Option<&str> {
        None
    }
}

/// `read`: no body; `send`: a JSON body; `bare`: an empty JSON object;
/// `anon`: a JSON body and no token.
macro_rules! endpoints {
    ($($kind:ident $verb:ident $path:literal => $name:ident($($p:ident),*);)*) => {
        impl TestApp { $( endpoints!(@ $kind $verb $path $name ($($p),*)); )* }
    };
    (@ read $verb:ident $path:literal $name:ident ($($p:ident),*)) => {
        endpoints!(@ call $verb $path $name ($($p),*) None);
    };
    (@ bare $verb:ident $path:literal $name:ident ($($p:ident),*)) => {
        endpoints!(@ call $verb $path $name ($($p),*) Some(json!({})));
    };
    (@ call $verb:ident $path:literal $name:ident ($($p:ident),*) $body:expr) => {
        pub async fn $name(&self, by: &(impl Bearer + ?Sized), $($p: impl Display),*) -> Reply {
            self.request(Method::$verb, &format!($path), by.bearer(), $body).await
        }
    };
    (@ send $verb:ident $path:literal $name:ident ($($p:ident),*)) => {
        pub async fn $name(&self, by: &(impl Bearer + ?Sized), $($p: impl Display,)* body: Value) -> Reply {
            self.request(Method::$verb, &format!($path), by.bearer(), Some(body)).await
        }
    };
    (@ anon $verb:ident $path:literal $name:ident ($($p:ident),*)) => {
        pub async fn $name(&self, $($p: impl Display,)* body: Value) -> Reply {
            self.request(Method::$verb, &format!($path), None, Some(body)).await
        }
    };
}

endpoints! {
    read GET "/api/v1/me" => try_me();
    send PUT "/api/v1/me/password" => try_change_password();
    read GET "/api/v1/me/invitations" => try_my_invitations();
    bare POST "/api/v1/me/invitations/{invitation}/accept" => try_accept_my_invitation(invitation);
    bare POST "/api/v1/me/invitations/{invitation}/decline" => try_decline_my_invitation(invitation);
    read DELETE "/api/v1/me/shares/{asset}" => try_leave_share(asset);
    anon POST "/api/v1/auth/register" => try_register();
    anon POST "/api/v1/auth/login" => try_login_with();
    anon POST "/api/v1/auth/verify-email" => try_verify_email();
    bare POST "/api/v1/auth/verify-email/resend" => try_resend_verification();
    anon POST "/api/v1/auth/password-reset" => try_request_password_reset();
    anon POST "/api/v1/auth/password-reset/confirm" => try_confirm_password_reset();
    read GET "/api/v1/assets{query}" => try_garage(query);
    send POST "/api/v1/assets" => try_create_asset();
    read GET "/api/v1/assets/{asset}" => try_get_asset(asset);
    send PATCH "/api/v1/assets/{asset}" => try_update_asset(asset);
    read DELETE "/api/v1/assets/{asset}" => try_delete_asset(asset);
    read GET "/api/v1/assets/{asset}/records" => try_records(asset);
    send POST "/api/v1/assets/{asset}/records" => try_add_record(asset);
    send PATCH "/api/v1/assets/{asset}/records/{record}" => try_update_record(asset, record);
    read DELETE "/api/v1/assets/{asset}/records/{record}" => try_delete_record(asset, record);
    read GET "/api/v1/assets/{asset}/photos" => try_photos(asset);
    send POST "/api/v1/assets/{asset}/photos" => try_add_photo(asset);
    read DELETE "/api/v1/assets/{asset}/photos/{photo}" => try_delete_photo(asset, photo);
    read GET "/api/v1/assets/{asset}/collaborators" => try_collaborators(asset);
    send POST "/api/v1/assets/{asset}/collaborators" => try_add_collaborator(asset);
    read DELETE "/api/v1/assets/{asset}/collaborators/{user}" => try_remove_collaborator(asset, user);
    read GET "/api/v1/assets/{asset}/access" => try_asset_access(asset);
    read GET "/api/v1/assets/{asset}/shares" => try_asset_shares(asset);
    send PATCH "/api/v1/assets/{asset}/shares/{user}" => try_update_share(asset, user);
    read DELETE "/api/v1/assets/{asset}/shares/{user}" => try_revoke_share(asset, user);
    read GET "/api/v1/assets/{asset}/invitations" => try_asset_invitations_of(asset);
    send POST "/api/v1/assets/{asset}/invitations" => try_invite_to_asset(asset);
    read GET "/api/v1/collaborators{query}" => try_collaborator_split(query);
    send POST "/api/v1/collaborators/add" => try_bulk_add_collaborators();
    send POST "/api/v1/collaborators/remove" => try_bulk_remove_collaborators();
    read GET "/api/v1/asset-invitations{query}" => try_asset_invitations(query);
    send POST "/api/v1/asset-invitations" => try_send_asset_invitation();
    read GET "/api/v1/asset-invitations/stats{query}" => try_asset_invitation_stats(query);
    read GET "/api/v1/asset-invitations/{invitation}" => try_get_asset_invitation(invitation);
    send POST "/api/v1/asset-invitations/{invitation}/resend" => try_resend_asset_invitation(invitation);
    send POST "/api/v1/asset-invitations/{invitation}/cancel" => try_cancel_asset_invitation(invitation);
    anon POST "/api/v1/invitations/preview" => try_preview_invitation();
    send POST "/api/v1/invitations/accept" => try_accept_invitation();
    anon POST "/api/v1/invitations/accept-signup" => try_accept_signup();
    anon POST "/api/v1/invitations/decline" => try_decline_invitation();
    read GET "/api/v1/estates{query}" => try_estates(query);
    send POST "/api/v1/estates" => try_create_estate();
    read GET "/api/v1/estates/{estate}" => try_get_estate(estate);
    send PATCH "/api/v1/estates/{estate}" => try_rename_estate(estate);
    read DELETE "/api/v1/estates/{estate}" => try_delete_estate(estate);
    read GET "/api/v1/estates/{estate}/sites" => try_sites(estate);
    send POST "/api/v1/estates/{estate}/sites" => try_create_site(estate);
    read GET "/api/v1/estates/{estate}/members{query}" => try_members(estate, query);
    send PUT "/api/v1/estates/{estate}/members/{user}" => try_set_estate_role(estate, user);
    read DELETE "/api/v1/estates/{estate}/members/{user}" => try_remove_member(estate, user);
    send POST "/api/v1/estates/{estate}/transfer-ownership" => try_transfer_ownership(estate);
    read GET "/api/v1/estates/{estate}/invitations{query}" => try_estate_invitations(estate, query);
    send POST "/api/v1/estates/{estate}/invitations" => try_invite_to_estate(estate);
    send POST "/api/v1/estates/{estate}/invitations/{invitation}/resend" => try_resend_estate_invitation(estate, invitation);
    send POST "/api/v1/estates/{estate}/invitations/{invitation}/cancel" => try_cancel_estate_invitation(estate, invitation);
    read GET "/api/v1/estates/{estate}/user-search{query}" => try_user_search(estate, query);
    read GET "/api/v1/sites/{site}" => try_get_site(site);
    send PATCH "/api/v1/sites/{site}" => try_rename_site(site);
    read DELETE "/api/v1/sites/{site}" => try_delete_site(site);
    read GET "/api/v1/sites/{site}/members" => try_site_members(site);
    send PUT "/api/v1/sites/{site}/members/{user}" => try_set_site_role(site, user);
    read DELETE "/api/v1/sites/{site}/members/{user}" => try_clear_site_role(site, user);
    read GET "/api/v1/household" => try_household();
    send POST "/api/v1/household/members" => try_household_add();
    send PATCH "/api/v1/household/members/{user}" => try_set_household_role(user);
    read DELETE "/api/v1/household/members/{user}" => try_remove_household_member(user);
    read GET "/api/v1/households" => try_households();
    read DELETE "/api/v1/households/{head}/membership" => try_leave_household(head);
    read GET "/api/v1/audit{query}" => try_audit(query);
    read GET "/api/v1/access/explain{query}" => try_explain(query);
}
