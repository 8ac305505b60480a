//! The Cedar schema and the asset access rules as Cedar policies.

/// The Cedar schema (strict validation of the policies, and of entities and
/// requests in the equivalence check).
pub const SCHEMA: &str = r#"
type HouseholdHeads = {
  viewer: Set<User>,
  editor: Set<User>,
  manager: Set<User>,
};
entity User in [EstateGroup] = {
  key: String,
  is_root: Bool,
  household_heads: HouseholdHeads,
};
entity EstateGroup in [EstateGroup];
entity Estate = {
  viewers: EstateGroup,
  editors: EstateGroup,
  admins: EstateGroup,
};
entity Site = {
  estate: Estate,
} tags String;
type Share = {
  permission: String,
  status: String,
  access_expires_at?: __cedar::datetime,
};
entity Asset = {
  collaborators: Set<User>,
  site?: Site,
} tags Share;

type Now = { now: __cedar::datetime };
action full appliesTo { principal: User, resource: Asset, context: Now };
action manage in [full] appliesTo { principal: User, resource: Asset, context: Now };
action edit in [manage] appliesTo { principal: User, resource: Asset, context: Now };
action view in [edit] appliesTo { principal: User, resource: Asset, context: Now };
"#;

/// The asset access rules (shared/spec/domain.md, "Paths to an asset").
/// Every policy is a path; the most generous path wins because any permit
/// allows and no policy forbids.
pub const POLICIES: &str = r#"
// Root users: full on everything.
@id("root")
permit(principal, action, resource)
when { principal.is_root };

// Collaborators of the asset: full.
@id("collaborator")
permit(principal, action, resource)
when { resource.collaborators.contains(principal) };

// Household members inherit exactly the assets their head collaborates on, at
// their role's level (viewer -> view, editor -> edit, manager -> manage). One
// level only: only the head's collaborator rows count.
@id("household")
permit(principal, action in Action::"manage", resource)
when {
  principal.household_heads.manager.containsAny(resource.collaborators) ||
  (action in Action::"edit" &&
   principal.household_heads.editor.containsAny(resource.collaborators)) ||
  (action in Action::"view" &&
   principal.household_heads.viewer.containsAny(resource.collaborators))
};

// A share gives its permission (view, edit or manage) while it is active and
// not past its access expiry (expired when now >= access_expires_at).
@id("share")
permit(principal, action in Action::"manage", resource)
when {
  resource.hasTag(principal.key) &&
  resource.getTag(principal.key).status == "active" &&
  (if resource.getTag(principal.key) has access_expires_at
   then context.now < resource.getTag(principal.key).access_expires_at
   else true) &&
  (action in Action::"view" ||
   (action in Action::"edit" &&
    ["edit", "manage"].contains(resource.getTag(principal.key).permission)) ||
   resource.getTag(principal.key).permission == "manage")
};

// The site the asset is placed at: the effective site role
// min(override or default, cap(estate role)) on none < viewer < editor < admin,
// as a level (viewer -> view, editor -> edit, admin -> manage). Estate admins
// and owners are site admin everywhere (their overrides are ignored) and get
// full from "estate_admin" below, so only viewers and editors matter here.
//
// Any member is at least viewer unless the override keeps them off:
// cap(viewer) = viewer, and every override but "none" is viewer or above.
@id("site_viewer")
permit(principal, action in Action::"view", resource)
when {
  resource has site &&
  principal in resource.site.estate.viewers &&
  !(resource.site.hasTag(principal.key) &&
    resource.site.getTag(principal.key) == "none")
};

// An estate editor (cap admin, default editor) edits unless lowered to viewer
// or kept off; an estate viewer never does (capped at viewer).
@id("site_editor")
permit(principal, action in Action::"edit", resource)
when {
  resource has site &&
  principal in resource.site.estate.editors &&
  (if resource.site.hasTag(principal.key)
   then ["editor", "admin"].contains(resource.site.getTag(principal.key))
   else true)
};

// Site admin (manage) only by an "admin" override on an estate editor.
@id("site_admin")
permit(principal, action in Action::"manage", resource)
when {
  resource has site &&
  principal in resource.site.estate.editors &&
  resource.site.hasTag(principal.key) &&
  resource.site.getTag(principal.key) == "admin"
};

// Estate admins and owners: full on every asset placed in the estate.
@id("estate_admin")
permit(principal, action, resource)
when { resource has site && principal in resource.site.estate.admins };
"#;
