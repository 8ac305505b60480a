//! The OpenAPI 3.1 document, assembled from the handlers' annotations.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::Problem;
use crate::routes::{
    access, accounts, asset_invitations, assets, estates, health, households, invitations, me,
    metrics, pages,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".to_owned());
        http.description =
            Some("Access token from /api/v1/auth/login or /api/v1/auth/register.".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keyholder API",
        description = "Share access to estates, sites and assets: roles, collaborators, \
                       households and email invitations. Errors are RFC 9457 \
                       `application/problem+json` documents with a stable `code`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    paths(
        accounts::register,
        accounts::login,
        accounts::verify_email,
        accounts::resend_verification,
        accounts::password_reset,
        accounts::password_reset_confirm,
        me::me,
        me::change_password,
        estates::create_estate,
        estates::list_estates,
        estates::get_estate,
        estates::rename_estate,
        estates::delete_estate,
        estates::transfer_ownership,
        estates::list_sites,
        estates::create_site,
        estates::get_site,
        estates::rename_site,
        estates::delete_site,
        estates::list_members,
        estates::set_member,
        estates::remove_member,
        estates::list_site_members,
        estates::set_site_override,
        estates::clear_site_override,
        invitations::user_search,
        invitations::invite,
        invitations::list_invitations,
        invitations::resend_invitation,
        invitations::cancel_invitation,
        invitations::preview_invitation,
        invitations::accept_invitation,
        invitations::accept_signup,
        invitations::decline_invitation,
        invitations::my_invitations,
        invitations::accept_mine,
        invitations::decline_mine,
        assets::create_asset,
        assets::garage,
        assets::get_asset,
        assets::update_asset,
        assets::delete_asset,
        assets::list_records,
        assets::add_record,
        assets::update_record,
        assets::delete_record,
        assets::list_photos,
        assets::add_photo,
        assets::delete_photo,
        assets::list_collaborators,
        assets::add_collaborator,
        assets::remove_collaborator,
        assets::collaborator_split,
        assets::bulk_add,
        assets::bulk_remove,
        asset_invitations::send_invitation,
        asset_invitations::send_for_asset,
        asset_invitations::list,
        asset_invitations::list_for_asset,
        asset_invitations::stats,
        asset_invitations::details,
        asset_invitations::resend,
        asset_invitations::cancel,
        asset_invitations::list_shares,
        asset_invitations::change_share,
        asset_invitations::revoke_share,
        asset_invitations::drop_share,
        access::explain,
        access::who_has_access,
        access::audit_trail,
        households::my_household,
        households::add_member,
        households::change_role,
        households::remove_member,
        households::my_memberships,
        households::leave,
        pages::verify_email,
        pages::reset_password,
        pages::accept_invitation,
        health::live,
        health::ready,
        metrics::metrics,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Registration, sign-in, email verification, passwords"),
        (name = "estates", description = "Estates: create, rename, delete, transfer ownership"),
        (name = "sites", description = "Sites of an estate"),
        (name = "members", description = "Users & Permissions: estate roles and site overrides"),
        (name = "invitations", description = "Invitations by email and their tokens"),
        (name = "assets", description = "Assets and the garage"),
        (name = "records", description = "Records and photos of an asset"),
        (name = "collaborators", description = "Collaborators of one asset or several"),
        (name = "asset invitations", description = "Invitations by email to one asset, the management table, and shares"),
        (name = "households", description = "Households and their members"),
        (name = "access", description = "Explain access, who has access, and the audit trail"),
        (name = "pages", description = "HTML pages that emailed links open (not JSON)"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// The document as served and committed.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// Pretty JSON with a trailing newline, exactly as in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut s = document().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
