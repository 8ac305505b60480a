//! Exporting my data: one document of everything stored about me, read in
//! one snapshot.

use keyholder_store::paging::Window;
use keyholder_store::{audit, email_changes, export, my_access, sessions};

use crate::auth::Caller;
use crate::ops::{Conn, Now, Outcome};
use crate::views::accounts::SessionView;
use crate::views::export::{
    ExportAccount, ExportAuthored, ExportEmailChange, ExportHouseholdMember, ExportInvitation,
    MyDataExport,
};

/// How many entries of one list an export holds.
const CAP: usize = 10_000;

/// Keeps the first [`CAP`] entries, noting `name` in `truncated` when there
/// were more.
fn capped<T>(mut rows: Vec<T>, name: &str, truncated: &mut Vec<String>) -> Vec<T> {
    if rows.len() > CAP {
        rows.truncate(CAP);
        truncated.push(name.to_owned());
    }
    rows
}

fn invitation(r: export::InvitationRow) -> ExportInvitation {
    ExportInvitation {
        id: r.id,
        resource_type: r.resource_type,
        resource_id: r.resource_id,
        email: r.email,
        role: r.role,
        status: r.status,
        invited_by: r.invited_by,
        invited_at: r.invited_at,
        expires_at: r.expires_at,
        batch_id: r.batch_id,
    }
}

fn authored((id, asset_id, created_at): export::Authored) -> ExportAuthored {
    ExportAuthored { id, asset_id, created_at }
}

/// Everything stored about the caller.
pub fn export(c: &mut Conn, actor: &Caller, now: Now) -> Outcome<MyDataExport> {
    let user = actor.user(c)?;
    let mut truncated = Vec::new();
    let pending = email_changes::pending_of(c, user.id)?.filter(|p| p.expires_at > now);
    let account = ExportAccount {
        id: user.id,
        email: user.email.clone(),
        email_verified_at: user.email_verified_at,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        is_root: user.is_root,
        created_at: user.created_at,
        updated_at: user.updated_at,
        pending_email_change: pending.map(|p| ExportEmailChange {
            new_email: p.new_email,
            requested_at: p.created_at,
            expires_at: p.expires_at,
        }),
    };
    let limit = i64::try_from(CAP).unwrap_or(i64::MAX);
    let sessions = sessions::list(c, user.id, &Window::first(limit + 1), now)?.items;
    let sessions = capped(sessions, "sessions", &mut truncated)
        .into_iter()
        .map(|s| SessionView::new(s, actor.session))
        .collect();
    let mut access = Vec::new();
    let mut after = None;
    loop {
        let window = Window { limit: 500, offset: 0, after };
        let page = my_access::grants(c, user.id, &window)?;
        after = page
            .items
            .last()
            .filter(|_| page.more)
            .map(|g| ((g.since, g.kind.as_str().to_owned()), g.resource_id));
        access.extend(page.items.into_iter().map(|g| super::me::grant_view(g, now)));
        if after.is_none() || access.len() > CAP {
            break;
        }
    }
    let access = capped(access, "access", &mut truncated);
    let household_members = export::household_of(c, user.id)?
        .into_iter()
        .map(|(user_id, username, role, added_at)| ExportHouseholdMember {
            user_id,
            username,
            role,
            added_at,
        })
        .collect();
    let household_members = capped(household_members, "household_members", &mut truncated);
    let sent = export::invitations_sent(c, user.id)?.into_iter().map(invitation).collect();
    let received =
        export::invitations_received(c, &user.email)?.into_iter().map(invitation).collect();
    let records = export::records_written(c, user.id)?.into_iter().map(authored).collect();
    let photos = export::photos_added(c, user.id)?.into_iter().map(authored).collect();
    let files = export::files_uploaded(c, user.id)?.into_iter().map(authored).collect();
    let events = audit::events_of_user(c, user.id, limit + 1)?
        .into_iter()
        .map(super::audit::event_view)
        .collect();
    Ok(MyDataExport {
        format: "keyholder-export/1",
        exported_at: now,
        account,
        sessions,
        access,
        household_members,
        invitations_sent: capped(sent, "invitations_sent", &mut truncated),
        invitations_received: capped(received, "invitations_received", &mut truncated),
        records_written: capped(records, "records_written", &mut truncated),
        photos_added: capped(photos, "photos_added", &mut truncated),
        files_uploaded: capped(files, "files_uploaded", &mut truncated),
        audit_events: capped(events, "audit_events", &mut truncated),
        truncated,
    })
}
