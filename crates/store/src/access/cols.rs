//! The column sets the one-statement reads share: the caller, an asset,
//! and the caller's facts on the asset.

use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::sql_types::{Bool, Nullable, Text, Timestamp};
use keyholder_domain::{EstateRole, HouseholdFact, HouseholdRole, SiteOverride};
use uuid::Uuid;

use crate::assets::AssetRow;
use crate::assets::{AccessRow, Asset};
use crate::error::{Result, StoreError, parse};
use crate::id::DbId;
use crate::time::from_db;
use crate::users::User;

// ------------------------------------------------------------------ caller

/// The caller's columns, selected from `users u`.
pub(crate) const CALLER_COLUMNS: &str = "u.id AS u_id, u.email AS u_email, \
    u.username AS u_username, u.display_name AS u_display_name, \
    u.password_hash AS u_password_hash, u.is_root AS u_is_root, \
    u.email_verified_at AS u_email_verified_at, \
    u.credentials_changed_at AS u_credentials_changed_at, \
    u.created_at AS u_created_at, u.updated_at AS u_updated_at, \
    u.disabled_at AS u_disabled_at, u.deleted_at AS u_deleted_at";

#[derive(QueryableByName)]
pub(crate) struct CallerCols {
    #[diesel(sql_type = Text)]
    u_id: DbId,
    #[diesel(sql_type = Text)]
    u_email: String,
    #[diesel(sql_type = Text)]
    u_username: String,
    #[diesel(sql_type = Text)]
    u_display_name: String,
    #[diesel(sql_type = Text)]
    u_password_hash: String,
    #[diesel(sql_type = Bool)]
    u_is_root: bool,
    #[diesel(sql_type = Nullable<Timestamp>)]
    u_email_verified_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Timestamp)]
    u_credentials_changed_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    u_created_at: NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    u_updated_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    u_disabled_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    u_deleted_at: Option<NaiveDateTime>,
}

impl CallerCols {
    pub(crate) fn user(self) -> Result<User> {
        Ok(User {
            id: self.u_id.0,
            email: self.u_email,
            username: self.u_username,
            display_name: self.u_display_name,
            password_hash: self.u_password_hash,
            is_root: self.u_is_root,
            email_verified_at: self.u_email_verified_at.map(from_db),
            credentials_changed_at: from_db(self.u_credentials_changed_at),
            created_at: from_db(self.u_created_at),
            updated_at: from_db(self.u_updated_at),
            disabled_at: self.u_disabled_at.map(from_db),
            deleted_at: self.u_deleted_at.map(from_db),
        })
    }
}

// ------------------------------------------------------------------ asset facts

/// The facts for the user `{uid}` on the asset `a`, as select-list columns:
/// collaborator, household roles through collaborating heads, the share and
/// its expiry, the estate role and the site override. Every lookup is by a
/// primary key or the member index.
pub(crate) fn asset_fact_columns(uid: &str) -> String {
    "EXISTS (SELECT 1 FROM asset_collaborators c WHERE c.asset_id = a.id AND c.user_id = {uid}) AS is_collaborator,
  EXISTS (SELECT 1 FROM household_members h JOIN asset_collaborators c ON c.asset_id = a.id AND c.user_id = h.head_id
          WHERE h.member_id = {uid} AND h.role = 'viewer') AS hh_viewer,
  EXISTS (SELECT 1 FROM household_members h JOIN asset_collaborators c ON c.asset_id = a.id AND c.user_id = h.head_id
          WHERE h.member_id = {uid} AND h.role = 'editor') AS hh_editor,
  EXISTS (SELECT 1 FROM household_members h JOIN asset_collaborators c ON c.asset_id = a.id AND c.user_id = h.head_id
          WHERE h.member_id = {uid} AND h.role = 'manager') AS hh_manager,
  (SELECT s.permission FROM asset_shares s WHERE s.asset_id = a.id AND s.user_id = {uid}) AS share_permission,
  (SELECT s.access_expires_at FROM asset_shares s WHERE s.asset_id = a.id AND s.user_id = {uid}) AS share_expires_at,
  (SELECT m.role FROM estate_members m WHERE m.estate_id = a.estate_id AND m.user_id = {uid}) AS estate_role,
  (SELECT o.role FROM site_overrides o WHERE o.site_id = a.site_id AND o.user_id = {uid}) AS site_override"
        .replace("{uid}", uid)
}

/// The columns of [`asset_fact_columns`].
#[derive(QueryableByName)]
pub(crate) struct AssetFactCols {
    #[diesel(sql_type = Bool)]
    is_collaborator: bool,
    #[diesel(sql_type = Bool)]
    hh_viewer: bool,
    #[diesel(sql_type = Bool)]
    hh_editor: bool,
    #[diesel(sql_type = Bool)]
    hh_manager: bool,
    #[diesel(sql_type = Nullable<Text>)]
    share_permission: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    share_expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    estate_role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    site_override: Option<String>,
}

impl AssetFactCols {
    /// The facts as the resolver reads them. Household paths are counted
    /// through a collaborating head only, so each present role stands for
    /// such a head, unnamed (the resolver needs the role, not who the head
    /// is).
    pub(crate) fn access(self, asset_id: Uuid) -> Result<AccessRow> {
        let households = [
            (self.hh_viewer, HouseholdRole::Viewer),
            (self.hh_editor, HouseholdRole::Editor),
            (self.hh_manager, HouseholdRole::Manager),
        ]
        .into_iter()
        .filter(|(present, _)| *present)
        .map(|(_, role)| HouseholdFact { head_id: None, role, head_is_collaborator: true })
        .collect();
        let share = self
            .share_permission
            .as_deref()
            .map(|p| Ok::<_, StoreError>((asset_id, parse(p)?, self.share_expires_at.map(from_db))))
            .transpose()?;
        Ok(AccessRow {
            is_collaborator: self.is_collaborator,
            households,
            share,
            estate_role: self.estate_role.as_deref().map(parse::<EstateRole>).transpose()?,
            site_override: self.site_override.as_deref().map(parse::<SiteOverride>).transpose()?,
        })
    }
}

/// The asset's columns from `assets a`, null when there is no such asset.
pub(crate) const ASSET_COLUMNS: &str = "a.id AS a_id, a.name AS a_name, a.reference AS a_reference, \
    a.attributes AS a_attributes, a.site_id AS a_site_id, a.estate_id AS a_estate_id, \
    a.created_at AS a_created_at, a.updated_at AS a_updated_at";

#[derive(QueryableByName)]
pub(crate) struct AssetCols {
    #[diesel(sql_type = Nullable<Text>)]
    a_id: Option<DbId>,
    #[diesel(sql_type = Nullable<Text>)]
    a_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    a_reference: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    a_attributes: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    a_site_id: Option<DbId>,
    #[diesel(sql_type = Nullable<Text>)]
    a_estate_id: Option<DbId>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    a_created_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    a_updated_at: Option<NaiveDateTime>,
}

impl AssetCols {
    pub(crate) fn asset(self) -> Result<Option<Asset>> {
        let (Some(id), Some(name), Some(attributes), Some(created_at), Some(updated_at)) =
            (self.a_id, self.a_name, self.a_attributes, self.a_created_at, self.a_updated_at)
        else {
            return Ok(None);
        };
        Asset::try_from(AssetRow {
            id,
            name,
            reference: self.a_reference,
            attributes,
            site_id: self.a_site_id,
            estate_id: self.a_estate_id,
            created_at,
            updated_at,
        })
        .map(Some)
    }

    /// The asset, if the row found one, with the caller's `facts` on it.
    pub(crate) fn with_access(self, facts: AssetFactCols) -> Result<Option<(Asset, AccessRow)>> {
        let Some(asset) = self.asset()? else { return Ok(None) };
        let access = facts.access(asset.id)?;
        Ok(Some((asset, access)))
    }
}
