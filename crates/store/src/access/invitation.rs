//! The caller, an asset invitation, the asset it offers and the caller's
//! facts on it, in one statement.

use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};
use uuid::Uuid;

use super::cols::{ASSET_COLUMNS, AssetCols, AssetFactCols, CallerCols, asset_fact_columns};
use super::{Read, caller_read, ids};
use crate::assets::{AccessRow, Asset};
use crate::db::Conn;
use crate::error::Result;
use crate::id::DbId;
use crate::invitations::{Invitation, InvitationRow};
use crate::sql::{cached_statement, load_cached};

// ------------------------------------------------------------------ invitations

#[derive(QueryableByName)]
struct InvitationCols {
    #[diesel(sql_type = Nullable<Text>)]
    i_id: Option<DbId>,
    #[diesel(sql_type = Nullable<Text>)]
    i_resource_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_resource_id: Option<DbId>,
    #[diesel(sql_type = Nullable<Text>)]
    i_email: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_message: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_invited_by: Option<DbId>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    i_invited_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    i_expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    i_access_expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    i_last_sent_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Integer>)]
    i_resend_count: Option<i32>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    i_responded_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<Text>)]
    i_batch_id: Option<DbId>,
    #[diesel(sql_type = Nullable<Text>)]
    i_inviter_username: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    i_inviter_display_name: Option<String>,
}

const INVITATION_COLUMNS: &str = "i.id AS i_id, i.resource_type AS i_resource_type, \
    i.resource_id AS i_resource_id, i.email AS i_email, i.role AS i_role, i.message AS i_message, \
    i.status AS i_status, i.invited_by AS i_invited_by, i.invited_at AS i_invited_at, \
    i.expires_at AS i_expires_at, i.access_expires_at AS i_access_expires_at, \
    i.last_sent_at AS i_last_sent_at, i.resend_count AS i_resend_count, \
    i.responded_at AS i_responded_at, (SELECT br.batch_id FROM invitation_batch_rows br WHERE br.invitation_id = i.id) AS i_batch_id, iu.username AS i_inviter_username, \
    iu.display_name AS i_inviter_display_name";

impl InvitationCols {
    fn invitation(self) -> Result<Option<Invitation>> {
        let (
            Some(id),
            Some(resource_type),
            Some(resource_id),
            Some(email),
            Some(role),
            Some(status),
            Some(invited_by),
            Some(invited_at),
            Some(last_sent_at),
            Some(resend_count),
            Some(inviter_username),
            Some(inviter_display_name),
        ) = (
            self.i_id,
            self.i_resource_type,
            self.i_resource_id,
            self.i_email,
            self.i_role,
            self.i_status,
            self.i_invited_by,
            self.i_invited_at,
            self.i_last_sent_at,
            self.i_resend_count,
            self.i_inviter_username,
            self.i_inviter_display_name,
        )
        else {
            return Ok(None);
        };
        let row = InvitationRow {
            id,
            resource_type,
            resource_id,
            email,
            role,
            message: self.i_message,
            status,
            invited_by,
            invited_at,
            expires_at: self.i_expires_at,
            access_expires_at: self.i_access_expires_at,
            last_sent_at,
            resend_count,
            responded_at: self.i_responded_at,
        };
        let inviter = (inviter_username, inviter_display_name);
        crate::invitations::from_row((row, inviter, self.i_batch_id)).map(Some)
    }
}

#[derive(QueryableByName)]
struct AssetInvitationCols {
    #[diesel(embed)]
    caller: CallerCols,
    #[diesel(embed)]
    invitation: InvitationCols,
    #[diesel(embed)]
    asset: AssetCols,
    #[diesel(embed)]
    facts: AssetFactCols,
}

/// An asset invitation with the asset it offers and the caller's facts on it.
pub type AssetInvitationFacts = (Invitation, Option<(Asset, AccessRow)>);

cached_statement!(
    /// The key of [`asset_invitation_sql`].
    asset_invitation_sql,
    AssetInvitationRead,
    caller_read(
        &format!("{INVITATION_COLUMNS}, {ASSET_COLUMNS}, {}", asset_fact_columns("u.id")),
        "LEFT JOIN invitations i ON i.id = $2 AND i.resource_type = 'asset'
         LEFT JOIN users iu ON iu.id = i.invited_by
         LEFT JOIN assets a ON a.id = i.resource_id"
    )
);

/// The caller, an invitation to an asset, the asset and the caller's facts
/// on it, in one statement.
pub fn asset_invitation(
    conn: &mut Conn,
    caller: super::Bearer,
    invitation_id: Uuid,
) -> Result<Read<AssetInvitationFacts>> {
    let row: Option<AssetInvitationCols> = load_cached::<_, AssetInvitationRead>(
        conn,
        asset_invitation_sql(),
        &ids(caller, invitation_id),
    )?
    .into_iter()
    .next();
    row.map(|r| {
        let user = r.caller.user()?;
        let found = match r.invitation.invitation()? {
            Some(inv) => Some((inv, r.asset.with_access(r.facts)?)),
            None => None,
        };
        Ok((user, found))
    })
    .transpose()
}
