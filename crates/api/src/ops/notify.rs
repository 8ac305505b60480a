//! Telling people about access changes: an email when someone gives them
//! access without an invitation, when access is taken back or lowered, and
//! three days before a share ends or an invitation they sent expires
//! unanswered (once each). Each kind can be turned off
//! (`GET/PUT /me/notifications`); security emails cannot. Only a verified
//! inbox hears about access. Queued in the change's own transaction.

use std::collections::BTreeMap;

use chrono::Duration;
use keyholder_store::audit::{self, Action};
use keyholder_store::notifications::{self, Kind, Settings};
use keyholder_store::outbox::{self, NewMail};
use keyholder_store::users::User;
use uuid::Uuid;

use super::accounts::event;
use crate::auth::Caller;
use crate::mail::templates;
use crate::ops::{Conn, Now, Outcome};
use crate::views::accounts::NotificationSettingsView;

/// How long before an end its reminder goes out.
pub const REMINDER_DAYS: i64 = 3;

/// Queues the email `mail` makes (from the address and username) to
/// `user_id`, when their inbox is verified and they want `kind`.
pub(crate) fn tell(
    c: &mut Conn,
    user_id: Uuid,
    kind: Kind,
    mail: impl FnOnce(&str, &str) -> NewMail,
    now: Now,
) -> Outcome<bool> {
    let Some((email, username)) = notifications::verified_inbox(c, user_id)? else {
        return Ok(false);
    };
    if !notifications::get(c, user_id)?.wants(kind) {
        return Ok(false);
    }
    outbox::enqueue(c, &mail(&email, &username), now)?;
    Ok(true)
}

/// "`by` gave you access to `what`" to `user_id`.
pub(crate) fn granted(c: &mut Conn, user_id: Uuid, what: &str, by: &User, now: Now) -> Outcome<()> {
    if user_id == by.id {
        return Ok(());
    }
    let by = by.display_name.clone();
    tell(
        c,
        user_id,
        Kind::AccessGranted,
        |to, name| templates::access_granted(to, name, what, &by),
        now,
    )?;
    Ok(())
}

/// "`by` changed your access: `what`" to `user_id`.
pub(crate) fn reduced(c: &mut Conn, user_id: Uuid, what: &str, by: &User, now: Now) -> Outcome<()> {
    if user_id == by.id {
        return Ok(());
    }
    let by = by.display_name.clone();
    tell(
        c,
        user_id,
        Kind::AccessReduced,
        |to, name| templates::access_reduced(to, name, what, &by),
        now,
    )?;
    Ok(())
}

/// My settings.
pub fn settings(c: &mut Conn, actor: &Caller) -> Outcome<NotificationSettingsView> {
    let user = actor.user(c)?;
    Ok(NotificationSettingsView::from(notifications::get(c, user.id)?))
}

/// Set my settings (every optional kind given); audited when they change.
pub fn set_settings(
    c: &mut Conn,
    actor: &Caller,
    wanted: Settings,
    now: Now,
) -> Outcome<NotificationSettingsView> {
    let user = actor.user(c)?;
    let before = notifications::get(c, user.id)?;
    if before != wanted {
        notifications::set(c, user.id, &wanted, now)?;
        let was = serde_json::to_value(NotificationSettingsView::from(before)).ok();
        let is = serde_json::to_value(NotificationSettingsView::from(wanted)).ok();
        audit::record(c, &event(&user, Action::UserNotificationsChanged, was, is), now)?;
    }
    Ok(NotificationSettingsView::from(wanted))
}

/// Rows of each kind one sweep reads: a bulk invitation's 50 × 50 rows
/// fit in one, so its sender hears once.
const REMINDER_BATCH: i64 = 2500;

/// Sends the reminders now due: three days before a share ends, to its
/// holder; three days before a pending invitation expires, to its sender.
/// Each end is claimed before its email is queued, in one transaction, so
/// it goes out once; the ends one sweep finds are told in one email per
/// person (a fleet shared in one step ends in one step, and a bulk
/// invitation expires in one), listing each. How many emails went out.
pub fn send_reminders(db: &keyholder_store::Db, now: Now) -> Outcome<usize> {
    db.write(|c| {
        let horizon = now + Duration::days(REMINDER_DAYS);
        let mut ending: BTreeMap<Uuid, Vec<(String, chrono::DateTime<chrono::Utc>)>> =
            BTreeMap::new();
        for share in notifications::shares_ending(c, now, horizon, REMINDER_BATCH)? {
            let key = (share.asset_id, share.user_id);
            if notifications::claim_reminder(c, "share", key, share.until, now)? {
                ending.entry(share.user_id).or_default().push((share.asset_name, share.until));
            }
        }
        let mut sent = 0;
        for (user_id, shares) in ending {
            let mail = |to: &str, name: &str| templates::access_expiring(to, name, &shares);
            sent += usize::from(tell(c, user_id, Kind::AccessExpiring, mail, now)?);
        }
        let mut expiring: BTreeMap<Uuid, Vec<templates::Unanswered>> = BTreeMap::new();
        for inv in notifications::invitations_expiring(c, now, horizon, REMINDER_BATCH)? {
            let key = (inv.id, inv.id);
            if !notifications::claim_reminder(c, "invitation", key, inv.expires_at, now)? {
                continue;
            }
            let name = notifications::resource_name(c, &inv.resource_type, inv.resource_id)?;
            let what = match (inv.resource_type.as_str(), name) {
                ("estate", Some(n)) => format!("the estate {n}"),
                (_, Some(n)) => format!("the asset {n}"),
                (_, None) => "something since deleted".to_owned(),
            };
            let row = templates::Unanswered { invitee: inv.email, what, at: inv.expires_at };
            expiring.entry(inv.invited_by).or_default().push(row);
        }
        for (user_id, rows) in expiring {
            let mail = |to: &str, user: &str| templates::invitation_expiring(to, user, &rows);
            sent += usize::from(tell(c, user_id, Kind::InvitationExpiring, mail, now)?);
        }
        Ok(sent)
    })
}
