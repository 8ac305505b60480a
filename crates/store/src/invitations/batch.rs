//! Bulk asset invitations: several emails times several assets, sent in one
//! step. Each (asset, email) pair is an ordinary invitation row carrying the
//! batch's id; each recipient has one token (stored here as a hash) that
//! answers every row of the batch addressed to them, and each email a batch
//! sends is recorded, so that the daily limit counts emails, not rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keyholder_domain::InvitationState;
use uuid::Uuid;

use super::{Invitation, InvitationRow, ResourceType, Row, from_row, get};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::id::{DbId, db_ids};
use crate::schema::{
    invitation_batch_mailings, invitation_batch_recipients, invitation_batch_rows, invitations,
    users,
};
use crate::time::to_db;

/// What every row of a batch offers, and who sends it.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub id: Uuid,
    pub role: &'a str,
    pub message: Option<&'a str>,
    pub invited_by: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
    pub access_expires_at: Option<DateTime<Utc>>,
}

/// One row of a batch: the asset, the email, and the row's own token hash
/// (unique, never mailed: the recipient's token answers the row).
#[derive(Debug, Clone)]
pub struct NewBatchRow<'a> {
    pub asset_id: Uuid,
    pub email: &'a str,
    pub token_hash: String,
}

/// The asset invitations to these emails on these assets, pending and not
/// past their expiry, in the selection `$assets` x `$emails`.
macro_rules! pairs_of {
    ($assets:expr, $emails:expr) => {
        invitations::table
            .filter(invitations::resource_type.eq(ResourceType::Asset.as_str()))
            .filter(invitations::resource_id.eq_any(db_ids($assets)))
            .filter(invitations::email.eq_any($emails.to_vec()))
            .filter(invitations::status.eq(InvitationState::Pending.as_str()))
    };
}

/// The (asset, email) pairs of the selection that already have a pending
/// invitation, ordered by email and asset. Pending invitations past their
/// expiry are written as expired first, so they do not count (as a single
/// invitation's insert does).
pub fn pending_pairs(
    conn: &mut Conn,
    asset_ids: &[Uuid],
    emails: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, String)>> {
    diesel::update(pairs_of!(asset_ids, emails).filter(lapsed!(to_db(now))))
        .set(invitations::status.eq(InvitationState::Expired.as_str()))
        .execute(conn)?;
    let rows: Vec<(DbId, String)> = pairs_of!(asset_ids, emails)
        .select((invitations::resource_id, invitations::email))
        .order((invitations::email, invitations::resource_id))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, email)| (id.0, email)).collect())
}

/// Inserts the rows of a batch and its recipients' token hashes, and
/// returns the rows as stored, in the order given. A row that collides
/// with a pending invitation (a writer that got there first) is a
/// [`StoreError::Conflict`]: the caller's transaction rolls back.
pub fn insert(
    conn: &mut Conn,
    batch: &NewBatch<'_>,
    rows: &[NewBatchRow<'_>],
    recipients: &[(&str, &str)],
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>> {
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        let id = Uuid::new_v4();
        diesel::insert_into(invitations::table)
            .values((
                invitations::id.eq(DbId(id)),
                invitations::resource_type.eq(ResourceType::Asset.as_str()),
                invitations::resource_id.eq(DbId(row.asset_id)),
                invitations::email.eq(row.email),
                invitations::role.eq(batch.role),
                invitations::message.eq(batch.message),
                invitations::status.eq(InvitationState::Pending.as_str()),
                invitations::token_hash.eq(&row.token_hash),
                invitations::invited_by.eq(DbId(batch.invited_by)),
                invitations::invited_at.eq(to_db(now)),
                invitations::expires_at.eq(batch.expires_at.map(to_db)),
                invitations::access_expires_at.eq(batch.access_expires_at.map(to_db)),
                invitations::last_sent_at.eq(to_db(now)),
                invitations::resend_count.eq(0),
            ))
            .execute(conn)?;
        diesel::insert_into(invitation_batch_rows::table)
            .values((
                invitation_batch_rows::invitation_id.eq(DbId(id)),
                invitation_batch_rows::batch_id.eq(DbId(batch.id)),
            ))
            .execute(conn)?;
        ids.push(id);
    }
    for (email, token_hash) in recipients {
        diesel::insert_into(invitation_batch_recipients::table)
            .values((
                invitation_batch_recipients::batch_id.eq(DbId(batch.id)),
                invitation_batch_recipients::email.eq(*email),
                invitation_batch_recipients::token_hash.eq(*token_hash),
            ))
            .execute(conn)?;
    }
    ids.into_iter().map(|id| get(conn, id)?.ok_or(StoreError::NotFound)).collect()
}

/// The recipient a token opens: the batch and the email, by the token's
/// hash.
pub fn find_recipient(conn: &mut Conn, token_hash: &str) -> Result<Option<(Uuid, String)>> {
    let found: Option<(DbId, String)> = invitation_batch_recipients::table
        .filter(invitation_batch_recipients::token_hash.eq(token_hash))
        .select((invitation_batch_recipients::batch_id, invitation_batch_recipients::email))
        .first(conn)
        .optional()?;
    Ok(found.map(|(b, e)| (b.0, e)))
}

/// Every row of the batch addressed to `email`, whatever their status,
/// oldest first (then by id), from the batch's index.
pub fn rows_for(conn: &mut Conn, batch_id: Uuid, email: &str) -> Result<Vec<Invitation>> {
    with_inviter!()
        .filter(invitation_batch_rows::batch_id.eq(DbId(batch_id)))
        .filter(invitations::email.eq(email))
        .select(columns!())
        .order((invitations::invited_at, invitations::id))
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Gives the recipient a new token (the old link stops working).
pub fn replace_token(conn: &mut Conn, batch_id: Uuid, email: &str, token_hash: &str) -> Result<()> {
    diesel::update(
        invitation_batch_recipients::table
            .filter(invitation_batch_recipients::batch_id.eq(DbId(batch_id)))
            .filter(invitation_batch_recipients::email.eq(email)),
    )
    .set(invitation_batch_recipients::token_hash.eq(token_hash))
    .execute(conn)?;
    Ok(())
}

/// Records one email a batch sent to `email`, listing `rows_covered`
/// invitation rows (each with its own `invitation.created` or
/// `invitation.resent` audit event, written in the same transaction).
pub fn record_mailing(
    conn: &mut Conn,
    (batch_id, email): (Uuid, &str),
    sent_by: Uuid,
    rows_covered: usize,
    now: DateTime<Utc>,
) -> Result<()> {
    diesel::insert_into(invitation_batch_mailings::table)
        .values((
            invitation_batch_mailings::id.eq(DbId(Uuid::new_v4())),
            invitation_batch_mailings::batch_id.eq(DbId(batch_id)),
            invitation_batch_mailings::email.eq(email),
            invitation_batch_mailings::sent_by.eq(DbId(sent_by)),
            invitation_batch_mailings::sent_at.eq(to_db(now)),
            invitation_batch_mailings::rows_covered
                .eq(i32::try_from(rows_covered).unwrap_or(i32::MAX)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The batch emails `user_id` sent since `since`, and how many invitation
/// rows (each with an audit event) they covered.
pub(crate) fn mailings_since(
    conn: &mut Conn,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<(i64, i64)> {
    let covered: Vec<i32> = invitation_batch_mailings::table
        .filter(invitation_batch_mailings::sent_by.eq(DbId(user_id)))
        .filter(invitation_batch_mailings::sent_at.ge(to_db(since)))
        .select(invitation_batch_mailings::rows_covered)
        .load(conn)?;
    let emails = i64::try_from(covered.len()).unwrap_or(i64::MAX);
    Ok((emails, covered.iter().map(|n| i64::from(*n)).sum()))
}
