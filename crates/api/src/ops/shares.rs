//! Shares: the grants accepted asset invitations leave. The asset's full
//! collaborators list, change and revoke them; a holder drops their own.

use crate::problems::ProblemCode;
use chrono::{DateTime, Utc};
use keyholder_domain::InvitationPermission;
use keyholder_domain::asset::AssetCapability;
use keyholder_domain::values::Expiry;

use keyholder_store::audit::{self, Action};
use keyholder_store::locks;
use keyholder_store::shares::{self, Share};
use keyholder_store::users::{self, User};
use serde_json::json;
use uuid::Uuid;

use super::Deferred;
use super::access::{AssetList, asset_list_page, caller_asset_for};
use super::assets::event;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::views::common::{Cursor, CursorPage, CursorQuery, parse_field};
use crate::views::shares::ShareView;

fn share_not_found() -> ApiError {
    ApiError::not_found(ProblemCode::ShareNotFound, "This user holds no share on this asset.")
}

/// The share `holder` has on `asset_id`.
#[derive(Clone, Copy)]
pub struct ShareKey {
    pub asset_id: Uuid,
    pub holder: Uuid,
}

/// The caller and the share `key` names, once the caller may manage the
/// asset's shares (the asset locked first): 404 when there is no such share.
fn managed_share(
    c: &mut Conn,
    actor: &Caller,
    key: ShareKey,
    now: Now,
) -> Outcome<(User, Share, String)> {
    locks::assets_with_estates(c, &[key.asset_id], &[])?;
    let (user, asset, _) =
        caller_asset_for(c, actor, key.asset_id, AssetCapability::ManageShares, now)?;
    let current = shares::get_share(c, key.asset_id, key.holder)?.ok_or_else(share_not_found)?;
    Ok((user, current, asset.name))
}

/// The shares of an asset (full access needed).
pub fn list(
    c: &mut Conn,
    actor: &Caller,
    asset_id: Uuid,
    q: &CursorQuery,
    now: Now,
) -> Outcome<CursorPage<ShareView>> {
    let list = AssetList {
        key: Cursor::instant,
        read: shares::shares,
        cursor: |s| Cursor::at(s.granted_at, s.user.id),
        view: |s, now| ShareView::new(&s, now),
    };
    asset_list_page(c, (actor, asset_id, AssetCapability::ManageShares), list, q, now)
}

/// What a change sets: absent fields stay as they are.
pub struct Edit {
    pub permission: Option<String>,
    /// `Some(None)`: the access never ends.
    pub access_expires_at: Option<Option<DateTime<Utc>>>,
}

pub struct Change {
    pub share: ShareKey,
    pub edit: Deferred<Edit>,
}

/// Change a share's permission or access expiry (full access needed).
pub fn change(c: &mut Conn, actor: &Caller, cmd: Change, now: Now) -> Outcome<ShareView> {
    let (user, current, asset_name) = managed_share(c, actor, cmd.share, now)?;
    let ShareKey { asset_id, holder } = cmd.share;
    let edit = cmd.edit?;
    let permission = match edit.permission.as_deref() {
        Some(p) => parse_field::<InvitationPermission>("permission", p)?,
        None => current.permission,
    };
    let until = match edit.access_expires_at {
        None => current.access_expires_at,
        Some(None) => None,
        Some(Some(at)) => Some(
            Expiry::parse(at, now)
                .map_err(|e| ApiError::field("access_expires_at", e.to_string()))?
                .at(),
        ),
    };
    shares::update_share(c, asset_id, holder, permission, until)?;
    let before = json!({"user_id": holder, "permission": current.permission, "access_expires_at": current.access_expires_at});
    let after = json!({"user_id": holder, "permission": permission, "access_expires_at": until});
    let ev = event(&user, Action::ShareUpdated, asset_id, Some(before), Some(after));
    audit::record(c, &ev, now)?;
    if permission < current.permission {
        let what = format!(
            "your share of {asset_name} now allows {} (it allowed {})",
            permission.as_str(),
            current.permission.as_str()
        );
        super::notify::reduced(c, holder, &what, &user, now)?;
    }
    let s = shares::get_share(c, asset_id, holder)?.ok_or_else(share_not_found)?;
    Ok(ShareView::new(&s, now))
}

/// Revoke a share (full access needed); it ends on the next request, and
/// pending invitations of the asset to the holder are cancelled.
pub fn revoke(c: &mut Conn, actor: &Caller, share: ShareKey, now: Now) -> Outcome<()> {
    let (user, current, asset_name) = managed_share(c, actor, share, now)?;
    let ShareKey { asset_id, holder } = share;
    shares::delete_share(c, asset_id, holder)?;
    let email = users::get(c, holder)?.email;
    keyholder_store::invitations::cancel_to_email_on_assets(c, &[asset_id], &email)?;
    let before = json!({"user_id": holder, "permission": current.permission});
    audit::record(c, &event(&user, Action::ShareRevoked, asset_id, Some(before), None), now)?;
    let what = format!("your shared access to {asset_name} was revoked");
    super::notify::reduced(c, holder, &what, &user, now)?;
    Ok(())
}

/// Drop a share the caller holds.
pub fn drop_held(c: &mut Conn, actor: &Caller, asset_id: Uuid, now: Now) -> Outcome<()> {
    let user = actor.user(c)?;
    let current = shares::get_share(c, asset_id, user.id)?.ok_or_else(share_not_found)?;
    shares::delete_share(c, asset_id, user.id)?;
    let before = json!({"user_id": user.id, "permission": current.permission});
    audit::record(c, &event(&user, Action::ShareDropped, asset_id, Some(before), None), now)?;
    Ok(())
}

/// Reports the shares whose access expiry passed (a `share.expired` event
/// each, on the trail, the feed and to webhooks), at most 200 per call,
/// each once.
pub fn report_expired(db: &keyholder_store::Db, now: Now) -> Outcome<usize> {
    db.write(|c| {
        let expired = keyholder_store::shares::claim_expired(c, now, 200)?;
        for share in &expired {
            let before = json!({
                "user_id": share.user_id,
                "permission": share.permission,
                "access_expires_at": share.expired_at,
            });
            let ev = keyholder_store::audit::NewAuditEvent {
                actor_id: None,
                action: Action::ShareExpired,
                target_type: "asset",
                target_id: share.asset_id.to_string(),
                before: Some(before),
                after: None,
            };
            audit::record(c, &ev, now)?;
        }
        Ok(expired.len())
    })
}
