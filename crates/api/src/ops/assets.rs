//! Assets: create, the garage, read, update or move, delete. An asset is
//! reached by any path the domain resolves (collaborator, household, estate
//! role at its site, share); see [`super::access`].

use crate::problems::ProblemCode;
use keyholder_domain::asset::{self, AssetCapability, PlacementFacts};
use keyholder_domain::estate;
use keyholder_domain::{AssetLevel, SiteRole};

use keyholder_store::assets::{self, Asset, Placement};
use keyholder_store::audit::{self, Action, NewAuditEvent};
use keyholder_store::estates;
use keyholder_store::locks;
use keyholder_store::users::User;
use keyholder_store::{garage, photos, records, sites};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::access::{caller_asset, judge, not_found_asset, require};
use super::estates::parse_name;
use super::{Deferred, event as audit_event};
use crate::auth::Caller;
use crate::error::{ApiError, FieldErrors};
use crate::ops::Conn;
use crate::ops::Now;
use crate::ops::Outcome;
use crate::views::assets::{AssetView, MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_TEXT, MAX_ATTRIBUTES};
use crate::views::common::{Cursor, CursorPage, CursorQuery, TOTAL_CAP};

/// An event on the asset `target_id`.
pub(crate) fn event(
    user: &User,
    action: Action,
    target_id: Uuid,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> NewAuditEvent<'static> {
    audit_event(user, action, "asset", target_id, before, after)
}

/// The target site: 404 unless I can see it; its estate and my role there.
fn target_site(c: &mut Conn, user: &User, site_id: Uuid) -> Outcome<(Placement, Option<SiteRole>)> {
    let (site, estate_role, over) = sites::site_for_user(c, site_id, user.id)?
        .ok_or_else(|| ApiError::not_found(ProblemCode::SiteNotFound, "No such site."))?;
    let role = estate::effective_site_role_of(estate_role, over);
    let at_site = estate::SiteActor { is_root: user.is_root, effective: role };
    if !at_site.sees() {
        return Err(ApiError::not_found(ProblemCode::SiteNotFound, "No such site."));
    }
    Ok((Placement { site_id: site.id, estate_id: site.estate_id }, role))
}

fn clean_reference(r: Option<&str>) -> Outcome<Option<String>> {
    match r.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().any(char::is_control) => {
            Err(ApiError::field("reference", "must not contain control characters"))
        }
        Some(s) if s.chars().count() > 200 => {
            Err(ApiError::field("reference", "must be at most 200 characters"))
        }
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// Checks attributes as a whole: at most [`MAX_ATTRIBUTES`] names of 1 to
/// [`MAX_ATTRIBUTE_NAME`] characters without control characters, each with
/// text of at most [`MAX_ATTRIBUTE_TEXT`] characters, a number or a boolean
/// (422 naming the attribute).
fn check_attributes(attributes: &Map<String, Value>) -> Outcome<()> {
    let mut v = FieldErrors::new();
    if attributes.len() > MAX_ATTRIBUTES {
        v.add("attributes", format!("must hold at most {MAX_ATTRIBUTES} attributes"));
    }
    for (name, value) in attributes {
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_ATTRIBUTE_NAME || name.chars().any(char::is_control) {
            v.add(
                "attributes",
                format!(
                    "names must be 1 to {MAX_ATTRIBUTE_NAME} characters without control characters"
                ),
            );
            continue;
        }
        let field = format!("attributes.{name}");
        match value {
            Value::String(t) if t.chars().count() > MAX_ATTRIBUTE_TEXT => {
                v.add(&field, format!("must be at most {MAX_ATTRIBUTE_TEXT} characters"));
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {}
            Value::Null | Value::Array(_) | Value::Object(_) => {
                v.add(&field, "must be text, a number or a boolean");
            }
        }
    }
    v.finish()
}

/// `patch` merged into `current` as JSON Merge Patch (RFC 7396): a name
/// with a value sets it, a name with `null` removes it, others are kept.
fn merge_attributes(
    mut current: Map<String, Value>,
    patch: Map<String, Value>,
) -> Map<String, Value> {
    for (name, value) in patch {
        if value.is_null() {
            current.remove(&name);
        } else {
            current.insert(name, value);
        }
    }
    current
}

pub struct Create {
    pub name: String,
    pub reference: Option<String>,
    pub site_id: Option<Uuid>,
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Create an asset; the caller becomes its collaborator. Placing it at a
/// site needs editor or above there.
pub fn create(c: &mut Conn, actor: &Caller, cmd: Create, now: Now) -> Outcome<AssetView> {
    let user = actor.user(c)?;
    let placement = match cmd.site_id {
        Some(site) => {
            let (placement, role) = target_site(c, &user, site)?;
            asset::check_placement(&PlacementFacts {
                is_root: user.is_root,
                asset_level: Some(AssetLevel::Full),
                target_site_role: Some(role),
                leaving_estate_role: None,
            })
            .map_err(ApiError::refused)?;
            Some(placement)
        }
        None => None,
    };
    let name = parse_name(&cmd.name)?;
    let reference = clean_reference(cmd.reference.as_deref())?;
    let attributes = cmd.attributes.unwrap_or_default();
    check_attributes(&attributes)?;
    let attributes = Value::Object(attributes);
    let a = assets::create(
        c,
        name.as_str(),
        reference.as_deref(),
        &attributes,
        placement,
        user.id,
        now,
    )?;
    let after = json!({"name": a.name, "site_id": a.site_id, "collaborator": user.id});
    audit::record(c, &event(&user, Action::AssetCreated, a.id, None, Some(after)), now)?;
    Ok(AssetView::new(&a, AssetLevel::Full))
}

pub struct Garage {
    /// Case-insensitive search in name and reference.
    pub q: Option<String>,
    pub site_id: Option<Uuid>,
    pub paging: CursorQuery,
}

/// The garage: every asset the caller can reach by any path, newest first,
/// each with the caller's level.
pub fn garage(
    c: &mut Conn,
    actor: &Caller,
    cmd: Garage,
    now: Now,
) -> Outcome<CursorPage<AssetView>> {
    let paging = cmd.paging;
    let start = match paging.after()? {
        Some(cursor) => garage::GarageStart::After { created_at: cursor.instant()?, id: cursor.id },
        None => garage::GarageStart::Skip(paging.offset()),
    };
    let user = actor.user(c)?;
    let query = garage::GarageQuery {
        user_id: user.id,
        q: cmd.q.as_deref(),
        site: cmd.site_id,
        now,
        limit: paging.per_page(),
        start,
        count_up_to: TOTAL_CAP,
    };
    let page =
        if user.is_root { garage::garage_root(c, &query)? } else { garage::garage(c, &query)? };
    let next =
        page.rows.last().filter(|_| page.more).map(|r| Cursor::at(r.asset.created_at, r.asset.id));
    let items = page
        .rows
        .iter()
        .filter_map(|r| judge(&user, &r.asset, &r.access, now).map(|l| AssetView::new(&r.asset, l)))
        .collect();
    Ok(CursorPage::new(items, page.counted, &paging, next))
}

/// One asset with the caller's level.
pub fn get(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<AssetView> {
    let (_, a, level) = caller_asset(c, actor, id, now)?;
    Ok(AssetView::new(&a, level))
}

/// What an update sets: absent fields stay as they are.
pub struct Change {
    pub name: Option<String>,
    /// `Some(None)` clears it.
    pub reference: Option<Option<String>>,
    /// Merged into the asset's (see [`merge_attributes`]).
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Move to another site; `Some(None)` takes it out of any estate.
    pub site_id: Option<Option<Uuid>>,
}

impl Change {
    fn details(&self) -> bool {
        self.name.is_some() || self.reference.is_some() || self.attributes.is_some()
    }
}

pub struct Update {
    pub id: Uuid,
    pub change: Deferred<Change>,
}

impl Update {
    /// The site the asset moves to, if the change names one.
    pub fn target_site(&self) -> Option<Uuid> {
        self.change.as_ref().ok().and_then(|r| r.site_id.flatten())
    }
}

/// Locks the estate an asset leaves and the one it joins (at
/// `target_site`), then the asset: what [`update`] locks first.
pub fn lock_for_update(
    c: &mut Conn,
    actor: &Caller,
    id: Uuid,
    target_site: Option<Uuid>,
) -> Outcome<()> {
    let target_estate = match target_site {
        Some(site) => sites::site_for_user(c, site, actor.id)?.map(|(s, _, _)| s.estate_id),
        None => None,
    };
    Ok(locks::assets_with_estates(c, &[id], target_estate.as_slice())?)
}

/// Update an asset (edit) or move it between sites (full, plus editor at
/// the target site; leaving an estate also needs estate admin there).
pub fn update(c: &mut Conn, actor: &Caller, cmd: Update, now: Now) -> Outcome<AssetView> {
    lock_for_update(c, actor, cmd.id, cmd.target_site())?;
    let (user, a, level) = caller_asset(c, actor, cmd.id, now)?;
    // Without edit access nothing here is allowed: 403 before 422.
    let change = match cmd.change {
        Ok(change) => change,
        Err(invalid) => {
            require(level, AssetCapability::UpdateDetails)?;
            return Err(invalid);
        }
    };
    let details = change.details();
    // An empty PATCH changes nothing but still needs edit access.
    if details || change.site_id.is_none() {
        require(level, AssetCapability::UpdateDetails)?;
    }
    if let Some(target) = change.site_id {
        move_to(c, &user, (&a, level), target, now)?;
    }
    if details {
        update_details(c, &a, &change, now)?;
    }
    let a = assets::get(c, a.id)?.ok_or_else(not_found_asset)?;
    let level = judge(&user, &a, &assets::access_row(c, &a, user.id)?, now).unwrap_or(level);
    Ok(AssetView::new(&a, level))
}

/// Moves the asset to the site `target` (none: out of any estate), with its
/// audit event, when the domain allows it and it is not there already.
fn move_to(
    c: &mut Conn,
    user: &User,
    (a, level): (&Asset, AssetLevel),
    target: Option<Uuid>,
    now: Now,
) -> Outcome<()> {
    require(level, AssetCapability::MoveAsset)?;
    let (placement, role) = match target {
        Some(site) => {
            let (p, r) = target_site(c, user, site)?;
            (Some(p), Some(r))
        }
        None => (None, None),
    };
    let leaving = match (a.estate_id, placement) {
        (Some(old), Some(p)) if p.estate_id == old => None,
        (Some(old), _) => Some(estates::member_role(c, old, user.id)?),
        (None, _) => None,
    };
    asset::check_placement(&PlacementFacts {
        is_root: user.is_root,
        asset_level: Some(level),
        target_site_role: placement.map(|_| role.flatten()),
        leaving_estate_role: leaving,
    })
    .map_err(ApiError::refused)?;
    if placement.map(|p| p.site_id) == a.site_id {
        return Ok(());
    }
    assets::place(c, a.id, placement, now)?;
    let before = json!({"site_id": a.site_id, "estate_id": a.estate_id});
    let after = json!({"site_id": placement.map(|p| p.site_id), "estate_id": placement.map(|p| p.estate_id)});
    audit::record(c, &event(user, Action::AssetMoved, a.id, Some(before), Some(after)), now)?;
    Ok(())
}

/// Writes the name, reference and attributes the change sets.
fn update_details(c: &mut Conn, a: &Asset, change: &Change, now: Now) -> Outcome<()> {
    let name = match &change.name {
        Some(n) => parse_name(n)?.as_str().to_owned(),
        None => a.name.clone(),
    };
    let reference = match &change.reference {
        Some(r) => clean_reference(r.as_deref())?,
        None => a.reference.clone(),
    };
    let attributes = match &change.attributes {
        Some(patch) => {
            let current = a.attributes.as_object().cloned().unwrap_or_default();
            let merged = merge_attributes(current, patch.clone());
            check_attributes(&merged)?;
            Value::Object(merged)
        }
        None => a.attributes.clone(),
    };
    assets::update(c, a.id, &name, reference.as_deref(), &attributes, now)?;
    Ok(())
}

/// Delete an asset with its records, photos, shares and invitations (full).
pub fn delete(c: &mut Conn, actor: &Caller, id: Uuid, now: Now) -> Outcome<()> {
    locks::assets_with_estates(c, &[id], &[])?;
    let (user, a, level) = caller_asset(c, actor, id, now)?;
    require(level, AssetCapability::DeleteAsset)?;
    let record_count = records::count_records(c, id)?;
    let photo_count = photos::count_photos(c, id)?;
    let dropped = assets::delete(c, id, user.id, now)?;
    // Every access the deletion ends is in the trail, as its own event,
    // before the deletion itself.
    let reason = "asset_deleted";
    for holder in &dropped.collaborators {
        let before = json!({"user_id": holder, "reason": reason, "estate_id": a.estate_id});
        audit::record(c, &event(&user, Action::CollaboratorRemoved, id, Some(before), None), now)?;
    }
    for (holder, permission) in &dropped.shares {
        let before = json!({"user_id": holder, "permission": permission, "reason": reason, "estate_id": a.estate_id});
        audit::record(c, &event(&user, Action::ShareRevoked, id, Some(before), None), now)?;
    }
    for (invitation, email) in &dropped.pending_invitations {
        let before = json!({"invitation_id": invitation, "email": email, "status": "pending"});
        let after = json!({"invitation_id": invitation, "status": "cancelled", "reason": reason, "estate_id": a.estate_id});
        let ev = event(&user, Action::InvitationCancelled, id, Some(before), Some(after));
        audit::record(c, &ev, now)?;
    }
    let before = json!({
        "name": a.name,
        "site_id": a.site_id,
        "estate_id": a.estate_id,
        "records": record_count,
        "photos": photo_count,
        "collaborators": dropped.collaborators,
        "shares": dropped.shares.len(),
        "invitations_cancelled": dropped.pending_invitations.len(),
    });
    audit::record(c, &event(&user, Action::AssetDeleted, id, Some(before), None), now)?;
    Ok(())
}
