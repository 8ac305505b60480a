//! Estates and sites: default and effective site roles, capabilities, and the
//! grant table (who may grant, change or remove what).
//!
//! Along the hierarchy the estate role caps the site role ("most restrictive
//! role wins"): `effective = min(override or default, cap(estate role))` on the
//! order `none < viewer < editor < admin`.

use std::collections::HashMap;

use uuid::Uuid;

use crate::RefusalKind;
use crate::roles::{EstateRole, SiteOverride, SiteRole};

/// The role every member has at every site unless overridden: owner and admin
/// give admin, editor gives editor, viewer gives viewer.
pub const fn default_site_role(role: EstateRole) -> SiteRole {
    match role {
        EstateRole::Viewer => SiteRole::Viewer,
        EstateRole::Editor => SiteRole::Editor,
        EstateRole::Admin | EstateRole::Owner => SiteRole::Admin,
    }
}

/// The highest site role an estate role allows: viewer → viewer, editor →
/// admin, admin and owner → admin.
pub const fn cap(role: EstateRole) -> SiteRole {
    match role {
        EstateRole::Viewer => SiteRole::Viewer,
        EstateRole::Editor | EstateRole::Admin | EstateRole::Owner => SiteRole::Admin,
    }
}

/// The member's effective role at a site; `None` means kept off the site
/// (the site is invisible to them).
///
/// Estate owners and admins administer every site: they cannot hold overrides
/// (and promotion deletes them), so any override found for them is ignored and
/// they are site admin everywhere.
pub fn effective_site_role(
    role: EstateRole,
    site_override: Option<SiteOverride>,
) -> Option<SiteRole> {
    effective_site_role_of(Some(role), site_override)
}

/// As [`effective_site_role`], for a user who may not be an estate member at
/// all (no membership: no site access). The decision is the fold of the
/// same walk that explains it ([`crate::estate_paths::site_role`]).
pub fn effective_site_role_of(
    role: Option<EstateRole>,
    site_override: Option<SiteOverride>,
) -> Option<SiteRole> {
    crate::estate_paths::site_role(&crate::estate_paths::SiteFacts::member(role, site_override))
}

/// Whether the override is above what the estate role allows: stored, but
/// without effect until the estate role is raised.
pub fn override_is_capped(role: EstateRole, site_override: Option<SiteOverride>) -> bool {
    !role.administers() && site_override.is_some_and(|o| o > SiteOverride::from(cap(role)))
}

/// What an estate role allows on the estate itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EstateCapability {
    /// Read the estate, list its sites and members: any member.
    Read,
    /// Edit estate-level content (reports, catalogues): editor and above.
    EditContent,
    /// Rename the estate, create and delete sites, change estate settings:
    /// admin and above.
    Manage,
    /// Invite members, search users to invite, grant roles (within the grant
    /// table): admin and above.
    ManageMembers,
    /// Delete the estate: owner.
    Delete,
    /// Transfer ownership: owner.
    TransferOwnership,
}

impl EstateCapability {
    /// The capability's stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::EditContent => "edit_content",
            Self::Manage => "manage_estate",
            Self::ManageMembers => "manage_members",
            Self::Delete => "delete_estate",
            Self::TransferOwnership => "transfer_ownership",
        }
    }

    pub const ALL: [Self; 6] = [
        Self::Read,
        Self::EditContent,
        Self::Manage,
        Self::ManageMembers,
        Self::Delete,
        Self::TransferOwnership,
    ];

    /// The lowest estate role holding this capability.
    pub const fn required_role(self) -> EstateRole {
        match self {
            Self::Read => EstateRole::Viewer,
            Self::EditContent => EstateRole::Editor,
            Self::Manage | Self::ManageMembers => EstateRole::Admin,
            Self::Delete | Self::TransferOwnership => EstateRole::Owner,
        }
    }
}

/// Whether a member with `role` (or a non-member, `None`) has the capability.
/// Root users have every capability: callers check `is_root` first (or use
/// [`administers_estate`]).
pub fn estate_can(role: impl Into<Option<EstateRole>>, capability: EstateCapability) -> bool {
    role.into().is_some_and(|r| r >= capability.required_role())
}

/// What an effective site role allows at the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SiteCapability {
    /// Read the site: viewer and above.
    Read,
    /// Edit site content: editor and above.
    EditContent,
    /// Manage site members (overrides at this site): admin.
    ManageMembers,
}

impl SiteCapability {
    /// The capability's stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read_site",
            Self::EditContent => "edit_site_content",
            Self::ManageMembers => "manage_site_members",
        }
    }
}

impl SiteCapability {
    pub const ALL: [Self; 3] = [Self::Read, Self::EditContent, Self::ManageMembers];

    pub const fn required_role(self) -> SiteRole {
        match self {
            Self::Read => SiteRole::Viewer,
            Self::EditContent => SiteRole::Editor,
            Self::ManageMembers => SiteRole::Admin,
        }
    }
}

/// Whether an effective site role (`None`: kept off, or no membership) has the
/// capability.
pub fn site_can(effective: impl Into<Option<SiteRole>>, capability: SiteCapability) -> bool {
    effective.into().is_some_and(|r| r >= capability.required_role())
}

/// A user at a site: root, or their effective role there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteActor {
    pub is_root: bool,
    pub effective: Option<SiteRole>,
}

impl SiteActor {
    /// Whether the actor has the capability at the site: root has every one.
    pub fn can(&self, capability: SiteCapability) -> bool {
        self.is_root || site_can(self.effective, capability)
    }

    /// Whether the actor sees the site at all: anyone with an effective
    /// role there, and root.
    pub fn sees(&self) -> bool {
        self.is_root || self.effective.is_some()
    }
}

/// "Administers" an estate: estate admin or owner, or root.
pub fn administers_estate(is_root: bool, role: Option<EstateRole>) -> bool {
    is_root || role.is_some_and(EstateRole::administers)
}

/// "Administers" a site: effective site admin there, or root.
pub fn administers_site(is_root: bool, effective: Option<SiteRole>) -> bool {
    is_root || effective == Some(SiteRole::Admin)
}

// ---------------------------------------------------------------------------
// The grant table
// ---------------------------------------------------------------------------

/// Why a grant, change or removal is refused. Each variant has a stable
/// [`code`](GrantRefusal::code) and a [`detail`](GrantRefusal::detail) naming
/// the rule; all are 403 except where [`kind`](GrantRefusal::kind) says
/// otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GrantRefusal {
    /// Nobody changes their own role (or overrides, or removes themselves:
    /// that is leaving).
    #[error("nobody changes their own role")]
    SelfRoleChange,
    /// Ownership moves only by transfer: nobody is granted owner, and the
    /// owner is not demoted, removed, or allowed to leave before transferring.
    #[error("ownership moves only by transfer")]
    OwnerTransferRequired,
    /// The actor may not grant this role or override.
    #[error("you may not grant this role")]
    CannotGrantRole,
    /// The actor may not change this member (their estate role is admin or
    /// owner, above what the actor manages).
    #[error("you may not change this member")]
    CannotChangeMember,
    /// The override being replaced is admin, above what the actor manages.
    #[error("you may not replace this site override")]
    CannotReplaceOverride,
    /// Estate owners and admins cannot be given site overrides (422).
    #[error("estate owners and admins cannot be given site overrides")]
    NoOverrideForAdmins,
    /// The target is not a member of the estate (site roles need estate
    /// membership).
    #[error("the user is not a member of this estate")]
    NotAMember,
    /// A site admin grants only at the site they administer.
    #[error("a site admin grants only at the sites they administer")]
    SiteAdminScope,
    /// The actor's role grants nothing here (estate editors and viewers, site
    /// editors and viewers).
    #[error("your role does not allow granting access")]
    InsufficientRole,
    /// The same site appears twice in one `sites` list (422).
    #[error("a site appears more than once")]
    DuplicateSite,
}

impl GrantRefusal {
    pub const ALL: [Self; 10] = [
        Self::SelfRoleChange,
        Self::OwnerTransferRequired,
        Self::CannotGrantRole,
        Self::CannotChangeMember,
        Self::CannotReplaceOverride,
        Self::NoOverrideForAdmins,
        Self::NotAMember,
        Self::SiteAdminScope,
        Self::InsufficientRole,
        Self::DuplicateSite,
    ];

    /// The stable code the API returns.
    pub const fn code(self) -> &'static str {
        match self {
            Self::SelfRoleChange => "self_role_change",
            Self::OwnerTransferRequired => "owner_transfer_required",
            Self::CannotGrantRole => "cannot_grant_role",
            Self::CannotChangeMember => "cannot_change_member",
            Self::CannotReplaceOverride => "cannot_replace_override",
            Self::NoOverrideForAdmins => "no_override_for_admins",
            Self::NotAMember => "not_a_member",
            Self::SiteAdminScope => "site_admin_scope",
            Self::InsufficientRole => "insufficient_role",
            Self::DuplicateSite => "duplicate_site",
        }
    }

    /// A sentence naming the rule.
    pub const fn detail(self) -> &'static str {
        match self {
            Self::SelfRoleChange => {
                "Nobody changes their own role or site access; another administrator must do it (to leave the estate, use leave)."
            }
            Self::OwnerTransferRequired => {
                "An estate has exactly one owner: ownership moves only by transfer, and the owner cannot be demoted, removed or leave until they transfer it."
            }
            Self::CannotGrantRole => {
                "Estate admins and site admins may grant only the editor and viewer roles (and keep a member off a site); only the owner grants admin."
            }
            Self::CannotChangeMember => {
                "Estate admins and site admins may change only members whose estate role is editor or viewer."
            }
            Self::CannotReplaceOverride => {
                "Estate admins and site admins may replace only site overrides of editor or below."
            }
            Self::NoOverrideForAdmins => {
                "Estate owners and admins administer every site and cannot be given site overrides."
            }
            Self::NotAMember => {
                "Site access requires estate membership: the user is not a member of this estate."
            }
            Self::SiteAdminScope => {
                "A site admin grants editor and viewer roles at the sites they administer only, never at other sites or at estate level."
            }
            Self::InsufficientRole => {
                "Only the estate owner, estate admins and site admins may grant access; editors and viewers cannot."
            }
            Self::DuplicateSite => "Each site may appear only once in a member's site list.",
        }
    }

    /// How the API should answer: 403, except `no_override_for_admins` and
    /// `duplicate_site` (422, invalid input) and `not_a_member` (404, the
    /// member to change does not exist).
    pub const fn kind(self) -> RefusalKind {
        match self {
            Self::NoOverrideForAdmins | Self::DuplicateSite => RefusalKind::Invalid,
            Self::NotAMember => RefusalKind::NotFound,
            _ => RefusalKind::Forbidden,
        }
    }
}

/// The user acting on an estate's membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EstateActor {
    pub user_id: Uuid,
    /// Root has every capability; here that means the owner's granting
    /// powers (ownership still moves only by transfer).
    pub is_root: bool,
    /// The actor's estate role; `None` if not a member.
    pub role: Option<EstateRole>,
}

impl EstateActor {
    pub const fn member(user_id: Uuid, role: EstateRole) -> Self {
        Self { user_id, is_root: false, role: Some(role) }
    }

    pub const fn root(user_id: Uuid) -> Self {
        Self { user_id, is_root: true, role: None }
    }

    /// Whether the actor has the capability in the estate: root has every
    /// one.
    pub fn can(&self, capability: EstateCapability) -> bool {
        self.is_root || estate_can(self.role, capability)
    }

    /// Whether the actor sees the estate at all: its members, and root.
    pub fn sees(&self) -> bool {
        self.is_root || self.role.is_some()
    }

    /// Owner powers: the owner, or root.
    fn owner_powers(&self) -> bool {
        self.is_root || self.role == Some(EstateRole::Owner)
    }

    fn admin_powers(&self) -> bool {
        self.role == Some(EstateRole::Admin)
    }
}

/// A member being granted, changed or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EstateMember {
    pub user_id: Uuid,
    pub role: EstateRole,
}

/// The roles estate admins and site admins may grant, and the member roles
/// they may change: editor and viewer.
const fn within_limited_grant(role: EstateRole) -> bool {
    matches!(role, EstateRole::Editor | EstateRole::Viewer)
}

/// Granting an estate role to someone who is not a member yet (adding a
/// registered user, or an estate invitation). Also the rule for who may
/// cancel or resend such an invitation, and who may search users to invite.
pub fn check_grant_new_member(actor: &EstateActor, role: EstateRole) -> Result<(), GrantRefusal> {
    if role == EstateRole::Owner {
        return Err(GrantRefusal::OwnerTransferRequired);
    }
    if actor.owner_powers() {
        return Ok(());
    }
    if actor.admin_powers() {
        return if within_limited_grant(role) {
            Ok(())
        } else {
            Err(GrantRefusal::CannotGrantRole)
        };
    }
    Err(GrantRefusal::InsufficientRole)
}

/// Whether the actor may search users and invite at all (admin and above).
pub fn may_invite_members(actor: &EstateActor) -> bool {
    actor.owner_powers() || actor.admin_powers()
}

/// Editing a member at all (`PUT .../members/{user_id}`), before the body is
/// read: the actor needs authority over this member whatever the body asks,
/// so an unchanged save or an invalid body from someone without it is
/// refused (403) like a real change. Owners (and root) may edit anyone but
/// the owner; estate admins, and members who administer at least one site
/// (`administers_a_site`), may edit editors and viewers.
pub fn check_edit_member(
    actor: &EstateActor,
    administers_a_site: bool,
    target: &EstateMember,
) -> Result<(), GrantRefusal> {
    // The same authority as removing the member; a member who administers a
    // site has an estate admin's reach over editors and viewers here.
    let site_admin = administers_a_site
        && actor.role.is_some()
        && !actor.owner_powers()
        && !actor.admin_powers();
    if site_admin {
        let as_admin = EstateActor { role: Some(EstateRole::Admin), ..*actor };
        return check_remove_member(&as_admin, target);
    }
    check_remove_member(actor, target)
}

/// Changing an existing member's estate role.
pub fn check_set_estate_role(
    actor: &EstateActor,
    target: &EstateMember,
    new_role: EstateRole,
) -> Result<(), GrantRefusal> {
    if actor.user_id == target.user_id {
        return Err(GrantRefusal::SelfRoleChange);
    }
    if new_role == EstateRole::Owner || target.role == EstateRole::Owner {
        return Err(GrantRefusal::OwnerTransferRequired);
    }
    if actor.owner_powers() {
        return Ok(());
    }
    if actor.admin_powers() {
        if !within_limited_grant(target.role) {
            return Err(GrantRefusal::CannotChangeMember);
        }
        if !within_limited_grant(new_role) {
            return Err(GrantRefusal::CannotGrantRole);
        }
        return Ok(());
    }
    Err(GrantRefusal::InsufficientRole)
}

/// Removing a member from the estate (which also removes their overrides,
/// and their collaborator rows and shares on the estate's assets).
pub fn check_remove_member(actor: &EstateActor, target: &EstateMember) -> Result<(), GrantRefusal> {
    if actor.user_id == target.user_id {
        return Err(GrantRefusal::SelfRoleChange);
    }
    if target.role == EstateRole::Owner {
        return Err(GrantRefusal::OwnerTransferRequired);
    }
    if actor.owner_powers() {
        return Ok(());
    }
    if actor.admin_powers() {
        return if within_limited_grant(target.role) {
            Ok(())
        } else {
            Err(GrantRefusal::CannotChangeMember)
        };
    }
    Err(GrantRefusal::InsufficientRole)
}

/// A member leaving the estate: anyone but the owner, who must transfer
/// ownership first.
pub fn check_leave(member: &EstateMember) -> Result<(), GrantRefusal> {
    if member.role == EstateRole::Owner { Err(GrantRefusal::OwnerTransferRequired) } else { Ok(()) }
}

/// The role the former owner holds after transferring ownership.
pub const FORMER_OWNER_ROLE: EstateRole = EstateRole::Admin;

/// Transferring ownership to another existing member. Only the owner (or
/// root) may; the new owner must already be a member (`None`: not a member);
/// the old owner becomes [`FORMER_OWNER_ROLE`] and the new owner's overrides
/// are deleted (see [`promotion_drops_overrides`]).
pub fn check_transfer_ownership(
    actor: &EstateActor,
    new_owner_id: Uuid,
    new_owner_role: Option<EstateRole>,
) -> Result<(), GrantRefusal> {
    if !actor.owner_powers() {
        return Err(GrantRefusal::InsufficientRole);
    }
    let Some(role) = new_owner_role else {
        return Err(GrantRefusal::NotAMember);
    };
    if actor.user_id == new_owner_id || role == EstateRole::Owner {
        return Err(GrantRefusal::SelfRoleChange);
    }
    Ok(())
}

/// Whether moving a member to `new_role` deletes their site overrides:
/// promotion to estate admin or owner does (they administer every site).
pub const fn promotion_drops_overrides(new_role: EstateRole) -> bool {
    new_role.administers()
}

/// Setting (`Some`) or clearing (`None`, back to the default) a member's
/// override at one site.
///
/// `actor_site_role` is the actor's effective role at that site (see
/// [`effective_site_role_of`]); `current` is the override being replaced.
/// Authority is checked first (403), then the override's validity
/// (`no_override_for_admins`, 422), following the spec's order of answers.
pub fn check_set_override(
    actor: &EstateActor,
    actor_site_role: Option<SiteRole>,
    target: &EstateMember,
    current: Option<SiteOverride>,
    new: Option<SiteOverride>,
) -> Result<(), GrantRefusal> {
    if actor.user_id == target.user_id {
        return Err(GrantRefusal::SelfRoleChange);
    }
    if !actor.owner_powers() {
        let limited = actor.admin_powers()
            || (actor.role.is_some() && actor_site_role == Some(SiteRole::Admin));
        if !limited {
            return Err(GrantRefusal::InsufficientRole);
        }
        if !within_limited_grant(target.role) {
            return Err(GrantRefusal::CannotChangeMember);
        }
        if new == Some(SiteOverride::Admin) {
            return Err(GrantRefusal::CannotGrantRole);
        }
        if current.is_some_and(|c| c > SiteOverride::Editor) {
            return Err(GrantRefusal::CannotReplaceOverride);
        }
    }
    if target.role.administers() && new.is_some() {
        return Err(GrantRefusal::NoOverrideForAdmins);
    }
    Ok(())
}

/// Saving a member with a `sites` list: the list replaces all of the member's
/// overrides. Every site whose override would change (added, changed or
/// removed) is checked with [`check_set_override`]; unchanged entries are
/// not. A site admin touching a site they do not administer gets
/// `site_admin_scope`.
///
/// `actor_site_role(site_id)` gives the actor's effective role at a site.
pub fn check_replace_overrides(
    actor: &EstateActor,
    actor_site_role: impl Fn(Uuid) -> Option<SiteRole>,
    target: &EstateMember,
    current: &[(Uuid, SiteOverride)],
    requested: &[(Uuid, SiteOverride)],
) -> Result<(), GrantRefusal> {
    let mut wanted: HashMap<Uuid, SiteOverride> = HashMap::with_capacity(requested.len());
    for &(site, o) in requested {
        if wanted.insert(site, o).is_some() {
            return Err(GrantRefusal::DuplicateSite);
        }
    }
    let existing: HashMap<Uuid, SiteOverride> = current.iter().copied().collect();

    // Every site whose override changes, in a stable order: requested first,
    // then removed ones.
    let changed = requested
        .iter()
        .filter(|(site, o)| existing.get(site) != Some(o))
        .map(|&(site, o)| (site, existing.get(&site).copied(), Some(o)))
        .chain(
            current
                .iter()
                .filter(|(site, _)| !wanted.contains_key(site))
                .map(|&(site, o)| (site, Some(o), None)),
        );

    let site_admin_somewhere = !actor.owner_powers()
        && !actor.admin_powers()
        && requested
            .iter()
            .chain(current)
            .any(|&(site, _)| actor_site_role(site) == Some(SiteRole::Admin));

    for (site, before, after) in changed {
        match check_set_override(actor, actor_site_role(site), target, before, after) {
            Err(GrantRefusal::InsufficientRole) if site_admin_somewhere => {
                return Err(GrantRefusal::SiteAdminScope);
            }
            other => other?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
