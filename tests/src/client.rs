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

/// One line a path below `/api/v1`, with the arguments its `{...}` holes
/// name, then each operation on it: `read` (no body), `send` (a JSON body),
/// `bare` (an empty JSON object) or `anon` (a JSON body and no token), the
/// verb, and the method's name.
macro_rules! endpoints {
    ($($path:literal $(($($p:ident),*))? => $($kind:ident $verb:ident $name:ident),+;)*) => {
        impl TestApp { $( endpoints!(@ path $path ($($($p),*)?) $($kind $verb $name),+); )* }
    };
    (@ path $path:literal $params:tt $($kind:ident $verb:ident $name:ident),+) => {
        $( endpoints!(@ $kind $verb $path $name $params); )+
    };
    (@ read $verb:ident $path:literal $name:ident ($($p:ident),*)) => {
        endpoints!(@ call $verb $path $name ($($p),*) None);
    };
    (@ bare $verb:ident $path:literal $name:ident ($($p:ident),*)) => {
        endpoints!(@ call $verb $path $name ($($p),*) Some(json!({})));
    };
    (@ call $verb:ident $path:literal $name:ident ($($p:ident),*) $body:expr) => {
        pub async fn $name(&self, by: &(impl Bearer + ?Sized), $($p: impl Display),*) -> Reply {
            self.request(Method::$verb, &endpoints!(@ url $path $($p)*), by.bearer(), $body).await
        }
    };
    (@ send $verb:ident $path:literal $name:ident ($($p:ident),*)) => {
        pub async fn $name(&self, by: &(impl Bearer + ?Sized), $($p: impl Display,)* body: Value) -> Reply {
            self.request(Method::$verb, &endpoints!(@ url $path $($p)*), by.bearer(), Some(body)).await
        }
    };
    (@ anon $verb:ident $path:literal $name:ident ($($p:ident),*)) => {
        pub async fn $name(&self, $($p: impl Display,)* body: Value) -> Reply {
            self.request(Method::$verb, &endpoints!(@ url $path $($p)*), None, Some(body)).await
        }
    };
    (@ url $path:literal $($p:ident)*) => {
        format!(concat!("/api/v1", $path), $($p = $p),*)
    };
}

endpoints! {
    "/me" => read GET try_me, send PATCH try_update_me, send DELETE try_delete_me;
    "/me/password" => send PUT try_change_password;
    "/me/export" => read GET try_export_my_data;
    "/me/notifications" => read GET try_my_notification_settings, send PUT try_set_my_notification_settings;
    "/me/email" => send POST try_request_email_change;
    "/auth/email-change/confirm" => anon POST try_confirm_email_change;
    "/me/invitations" => read GET try_my_invitations;
    "/me/invitations/{invitation}/accept" (invitation) => bare POST try_accept_my_invitation;
    "/me/invitations/{invitation}/decline" (invitation) => bare POST try_decline_my_invitation;
    "/me/shares/{asset}" (asset) => read DELETE try_leave_share;
    "/auth/register" => anon POST try_register;
    "/auth/refresh" => anon POST try_refresh;
    "/auth/logout" => bare POST try_log_out;
    "/me/sessions{query}" (query) => read GET try_my_sessions;
    "/me/sessions/revoke-others" => bare POST try_revoke_other_sessions;
    "/me/sessions/{session}" (session) => read DELETE try_revoke_session;
    "/auth/login" => anon POST try_login_with;
    "/auth/verify-email" => anon POST try_verify_email;
    "/auth/verify-email/resend" => bare POST try_resend_verification;
    "/auth/password-reset" => anon POST try_request_password_reset;
    "/auth/password-reset/confirm" => anon POST try_confirm_password_reset;
    "/invitations/preview" => anon POST try_preview_invitation;
    "/invitations/accept" => send POST try_accept_invitation;
    "/invitations/accept-signup" => anon POST try_accept_signup;
    "/invitations/decline" => anon POST try_decline_invitation;
    "/assets{query}" (query) => read GET try_garage;
    "/assets" => send POST try_create_asset;
    "/assets/{asset}" (asset) => read GET try_get_asset, send PATCH try_update_asset, read DELETE try_delete_asset;
    "/assets/{asset}/records" (asset) => read GET try_records, send POST try_add_record;
    "/assets/{asset}/records/export{query}" (asset, query) => read GET try_export_records;
    "/assets/{asset}/records/{record}" (asset, record) => read GET try_get_record, send PATCH try_update_record, read DELETE try_delete_record;
    "/assets/{asset}/photos" (asset) => read GET try_photos, send POST try_add_photo;
    "/assets/{asset}/photos/{photo}" (asset, photo) => read GET try_get_photo, read DELETE try_delete_photo;
    "/assets/{asset}/collaborators" (asset) => read GET try_collaborators, send POST try_add_collaborator;
    "/assets/{asset}/collaborators/{user}" (asset, user) => read DELETE try_remove_collaborator;
    "/assets/{asset}/access" (asset) => read GET try_asset_access;
    "/assets/{asset}/shares" (asset) => read GET try_asset_shares;
    "/assets/{asset}/shares/{user}" (asset, user) => send PATCH try_update_share, read DELETE try_revoke_share;
    "/assets/{asset}/invitations" (asset) => read GET try_asset_invitations_of, send POST try_invite_to_asset;
    "/collaborators{query}" (query) => read GET try_collaborator_split;
    "/collaborators/add" => send POST try_bulk_add_collaborators;
    "/collaborators/remove" => send POST try_bulk_remove_collaborators;
    "/asset-invitations{query}" (query) => read GET try_asset_invitations;
    "/asset-invitations" => send POST try_send_asset_invitation;
    "/asset-invitations/bulk" => send POST try_send_bulk_invitation;
    "/asset-invitations/stats{query}" (query) => read GET try_asset_invitation_stats;
    "/asset-invitations/export{query}" (query) => read GET try_export_asset_invitations;
    "/asset-invitations/{invitation}" (invitation) => read GET try_get_asset_invitation;
    "/asset-invitations/{invitation}/resend" (invitation) => send POST try_resend_asset_invitation;
    "/asset-invitations/{invitation}/cancel" (invitation) => send POST try_cancel_asset_invitation;
    "/estates{query}" (query) => read GET try_estates;
    "/estates" => send POST try_create_estate;
    "/estates/{estate}" (estate) => read GET try_get_estate, send PATCH try_rename_estate, read DELETE try_delete_estate;
    "/estates/{estate}/sites" (estate) => read GET try_sites, send POST try_create_site;
    "/estates/{estate}/members{query}" (estate, query) => read GET try_members;
    "/estates/{estate}/members/{user}" (estate, user) => send PUT try_set_estate_role, read DELETE try_remove_member;
    "/estates/{estate}/transfer-ownership" (estate) => send POST try_transfer_ownership;
    "/estates/{estate}/invitations{query}" (estate, query) => read GET try_estate_invitations;
    "/estates/{estate}/invitations" (estate) => send POST try_invite_to_estate;
    "/estates/{estate}/invitations/stats" (estate) => read GET try_estate_invitation_stats;
    "/estates/{estate}/invitations/{invitation}" (estate, invitation) => read GET try_get_estate_invitation;
    "/estates/{estate}/invitations/{invitation}/resend" (estate, invitation) => send POST try_resend_estate_invitation;
    "/estates/{estate}/invitations/{invitation}/cancel" (estate, invitation) => send POST try_cancel_estate_invitation;
    "/estates/{estate}/user-search{query}" (estate, query) => read GET try_user_search;
    "/sites/{site}" (site) => read GET try_get_site, send PATCH try_rename_site, read DELETE try_delete_site;
    "/sites/{site}/members" (site) => read GET try_site_members;
    "/sites/{site}/members/{user}" (site, user) => send PUT try_set_site_role, read DELETE try_clear_site_role;
    "/household" => read GET try_household;
    "/household/members" => send POST try_household_add;
    "/household/members/{user}" (user) => send PATCH try_set_household_role, read DELETE try_remove_household_member;
    "/households" => read GET try_households;
    "/households/{head}/membership" (head) => read DELETE try_leave_household;
    "/audit{query}" (query) => read GET try_audit;
    "/audit/export{query}" (query) => read GET try_export_audit;
    "/admin/users{query}" (query) => read GET try_admin_users;
    "/admin/users/{user}" (user) => read GET try_admin_user;
    "/admin/users/{user}/disable" (user) => bare POST try_disable_user;
    "/admin/users/{user}/enable" (user) => bare POST try_enable_user;
    "/admin/users/{user}/password-reset" (user) => bare POST try_admin_password_reset;
    "/admin/users/{user}/verification" (user) => bare POST try_admin_verification;
    "/access/explain{query}" (query) => read GET try_explain;
}
