//! Keyholder's asset access rules written as Cedar policies, the world
//! ("scenario") both sides are asked about, and the equivalence check between
//! the Cedar model and `keyholder_domain::asset::effective_level`.
//!
//! Shared by `benches/resolver_vs_cedar.rs` and `tests/cedar_equivalence.rs`
//! (included with `#[path]`); it lives in a directory without a `main.rs` so
//! cargo does not take it for a bench target of its own. Each includer uses a
//! different part of it, hence the `dead_code` allowance.
//!
//! # The model
//!
//! A [`Scenario`] is one user asking about one asset, described by the raw
//! relations the store reads (the asset's collaborators, the user's
//! household memberships, the user's share row on the asset, the asset's site
//! and the user's estate membership and override there). The keyholder side
//! gets the [`AccessFacts`] the store would derive from them (the store
//! computes `head_is_collaborator` with a join, [`Scenario::facts`] with
//! `contains`); the Cedar side gets entities carrying the same relations and
//! the policies evaluate them:
//!
//! - `User`: `key` (its id, used as a tag key), `is_root`, and
//!   `household_heads.{viewer,editor,manager}`: the heads of the households
//!   the user is a member of, by the user's role there. Parents: the user's
//!   estate role group, `EstateGroup::"<estate>#<role>"`.
//! - `EstateGroup`: `#owner in #admin in #editor in #viewer`, so membership
//!   of `#editor` means "estate editor or above".
//! - `Estate`: `viewers`, `editors`, `admins`: its groups.
//! - `Site`: `estate`; tags: user key -> that user's override at the site
//!   (`"none"`, `"viewer"`, `"editor"`, `"admin"`).
//! - `Asset`: `collaborators: Set<User>`, `site?: Site`; tags: user key -> the
//!   user's share (`permission`, `status`, optional `access_expires_at`, a
//!   Cedar `datetime`). The store keys shares by (asset, user), so there is at
//!   most one per user and asset.
//! - Actions `view in edit in manage in full`: `action in Action::"edit"`
//!   holds for `view` and `edit`, so a policy granting level L is written
//!   `permit(principal, action in Action::"L", resource)` (the household and
//!   share policies, whose level depends on a role or permission, narrow the
//!   scope `manage` with `action in Action::"L"` in their condition) and "may
//!   do L" is "effective level >= L".
//! - Context: `now`, a `datetime`.
//!
//! Cedar's `datetime` has millisecond precision; scenarios use millisecond
//! aligned times and [`CedarModel::entities`] refuses any other.

#![allow(dead_code)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use keyholder_domain::asset::{
    AccessFacts, AssetCapability, HouseholdFact, OwnedAccessFacts, ShareFact, ShareStatus,
    SitePathFact, asset_can, effective_level,
};
use keyholder_domain::{AssetLevel, EstateRole, HouseholdRole, InvitationPermission, SiteOverride};
use uuid::Uuid;

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

// ---------------------------------------------------------------------------
// The scenario: one user, one asset, the raw relations between them
// ---------------------------------------------------------------------------

/// One user asking about one asset, as the relations the store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub user: Uuid,
    pub asset: Uuid,
    pub is_root: bool,
    /// The asset's collaborators (the user among them or not).
    pub collaborators: Vec<Uuid>,
    /// The households the user is a member of: (head, the user's role).
    pub households: Vec<(Uuid, HouseholdRole)>,
    /// The user's share on the asset (keyed by asset and user: at most one).
    pub share: Option<ShareFact>,
    /// The asset's site, and the user's estate role and override there.
    pub site: Option<SitePathFact>,
    pub now: DateTime<Utc>,
}

impl Scenario {
    /// The facts the store derives from these relations.
    pub fn facts(&self) -> OwnedAccessFacts {
        OwnedAccessFacts {
            households: self
                .households
                .iter()
                .map(|&(head_id, role)| HouseholdFact {
                    head_id: Some(head_id),
                    role,
                    head_is_collaborator: self.collaborators.contains(&head_id),
                })
                .collect(),
            shares: self.share.into_iter().collect(),
            rest: AccessFacts {
                is_root: self.is_root,
                is_collaborator: self.collaborators.contains(&self.user),
                site: self.site,
                ..AccessFacts::none(self.now)
            },
        }
    }

    /// A scenario with no path at all.
    pub fn empty(user: Uuid, asset: Uuid, now: DateTime<Utc>) -> Self {
        Self {
            user,
            asset,
            is_root: false,
            collaborators: Vec::new(),
            households: Vec::new(),
            share: None,
            site: None,
            now,
        }
    }
}

/// The capability that stands for "may do `level`" on the keyholder side.
pub const fn capability_for(level: AssetLevel) -> AssetCapability {
    match level {
        AssetLevel::View => AssetCapability::Read,
        AssetLevel::Edit => AssetCapability::UpdateDetails,
        AssetLevel::Manage => AssetCapability::DeleteRecordsAndPhotos,
        AssetLevel::Full => AssetCapability::DeleteAsset,
    }
}

/// The keyholder decision: may the user do `level` on the asset?
pub fn keyholder_allows(facts: &AccessFacts<'_>, level: AssetLevel) -> bool {
    asset_can(effective_level(facts), capability_for(level))
}

// ---------------------------------------------------------------------------
// The Cedar side
// ---------------------------------------------------------------------------

/// Parsed schema and policies, the entity type names, and the action
/// entities; everything that does not depend on the request.
pub struct CedarModel {
    pub schema: Schema,
    pub policies: PolicySet,
    pub authorizer: Authorizer,
    user_type: EntityTypeName,
    asset_type: EntityTypeName,
    site_type: EntityTypeName,
    estate_type: EntityTypeName,
    group_type: EntityTypeName,
    /// `Action::"view"` .. `Action::"full"`, in `AssetLevel::ALL` order.
    actions: [EntityUid; 4],
    /// The action entities (with the `view in edit in manage in full`
    /// hierarchy), for entity sets built without the schema.
    action_entities: Vec<Entity>,
}

impl std::fmt::Debug for CedarModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CedarModel").finish_non_exhaustive()
    }
}

fn type_name(name: &str) -> EntityTypeName {
    EntityTypeName::from_str(name).expect("a valid entity type name")
}

fn datetime(t: DateTime<Utc>) -> Result<RestrictedExpression, String> {
    if !t.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        return Err(format!("{t} is not millisecond aligned (Cedar datetime precision)"));
    }
    Ok(RestrictedExpression::new_datetime(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()))
}

const fn share_status_name(status: ShareStatus) -> &'static str {
    match status {
        ShareStatus::Active => "active",
        ShareStatus::Revoked => "revoked",
        ShareStatus::InvitationPending => "invitation_pending",
    }
}

impl CedarModel {
    /// The model with [`POLICIES`].
    pub fn new() -> Self {
        Self::with_policies(POLICIES).expect("the Cedar model parses and validates")
    }

    /// The model with other policy text (used to show that the equivalence
    /// check catches a wrong rule). The policies must pass strict validation
    /// against [`SCHEMA`].
    pub fn with_policies(policies: &str) -> Result<Self, String> {
        let (schema, warnings) =
            Schema::from_cedarschema_str(SCHEMA).map_err(|e| format!("schema: {e:?}"))?;
        let warnings: Vec<String> = warnings.map(|w| w.to_string()).collect();
        if !warnings.is_empty() {
            return Err(format!("schema warnings: {warnings:?}"));
        }
        let policies = PolicySet::from_str(policies).map_err(|e| format!("policies: {e:?}"))?;
        let validation = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
        if !validation.validation_passed_without_warnings() {
            let mut msg = String::from("policy validation failed:");
            for e in validation.validation_errors() {
                let _ = write!(msg, "\n  error: {e}");
            }
            for w in validation.validation_warnings() {
                let _ = write!(msg, "\n  warning: {w}");
            }
            return Err(msg);
        }
        let action_type = type_name("Action");
        let actions = AssetLevel::ALL.map(|l| {
            EntityUid::from_type_name_and_id(action_type.clone(), EntityId::new(l.as_str()))
        });
        let action_entities: Vec<Entity> = schema
            .action_entities()
            .map_err(|e| format!("action entities: {e:?}"))?
            .into_iter()
            .collect();
        Ok(Self {
            schema,
            policies,
            authorizer: Authorizer::new(),
            user_type: type_name("User"),
            asset_type: type_name("Asset"),
            site_type: type_name("Site"),
            estate_type: type_name("Estate"),
            group_type: type_name("EstateGroup"),
            actions,
            action_entities,
        })
    }

    fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }

    fn user_uid(&self, id: Uuid) -> EntityUid {
        Self::uid(&self.user_type, &id.to_string())
    }

    fn users(&self, ids: impl IntoIterator<Item = Uuid>) -> RestrictedExpression {
        RestrictedExpression::new_set(
            ids.into_iter().map(|id| RestrictedExpression::new_entity_uid(self.user_uid(id))),
        )
    }

    fn group_uid(&self, estate: Uuid, role: EstateRole) -> EntityUid {
        Self::uid(&self.group_type, &format!("{estate}#{}", role.as_str()))
    }

    /// The action standing for `level`.
    pub fn action(&self, level: AssetLevel) -> &EntityUid {
        &self.actions[level as usize]
    }

    /// The entities of a scenario: the user, the asset and, for an asset at
    /// a site, the site, its estate and the estate's role groups. With
    /// `validate`, they are checked against the schema (which also supplies
    /// the action entities); without, the action entities are added as
    /// they are.
    pub fn entities(&self, s: &Scenario, validate: bool) -> Result<Entities, String> {
        let user_key = s.user.to_string();
        let mut entities = Vec::with_capacity(10);

        // The user.
        let heads = |role: HouseholdRole| {
            self.users(s.households.iter().filter(move |(_, r)| *r == role).map(|&(head, _)| head))
        };
        let household_heads = RestrictedExpression::new_record([
            ("viewer".to_owned(), heads(HouseholdRole::Viewer)),
            ("editor".to_owned(), heads(HouseholdRole::Editor)),
            ("manager".to_owned(), heads(HouseholdRole::Manager)),
        ])
        .map_err(|e| format!("{e:?}"))?;
        let user_parents: HashSet<EntityUid> = s
            .site
            .and_then(|site| Some(self.group_uid(site.estate_id, site.estate_role?)))
            .into_iter()
            .collect();
        entities.push(
            Entity::new_with_tags(
                self.user_uid(s.user),
                [
                    ("key".to_owned(), RestrictedExpression::new_string(user_key.clone())),
                    ("is_root".to_owned(), RestrictedExpression::new_bool(s.is_root)),
                    ("household_heads".to_owned(), household_heads),
                ],
                user_parents,
                [],
            )
            .map_err(|e| format!("{e:?}"))?,
        );

        // The asset, with the user's share as a tag.
        let mut asset_attrs =
            vec![("collaborators".to_owned(), self.users(s.collaborators.iter().copied()))];
        let mut asset_tags = Vec::with_capacity(1);
        if let Some(share) = s.share {
            let mut fields = vec![
                (
                    "permission".to_owned(),
                    RestrictedExpression::new_string(share.permission.as_str().to_owned()),
                ),
                (
                    "status".to_owned(),
                    RestrictedExpression::new_string(share_status_name(share.status).to_owned()),
                ),
            ];
            if let Some(at) = share.access_expires_at {
                fields.push(("access_expires_at".to_owned(), datetime(at)?));
            }
            asset_tags.push((
                user_key.clone(),
                RestrictedExpression::new_record(fields).map_err(|e| format!("{e:?}"))?,
            ));
        }

        // The site, its estate and the estate's role groups.
        if let Some(site) = s.site {
            let site_uid = Self::uid(&self.site_type, &site.site_id.to_string());
            let estate_uid = Self::uid(&self.estate_type, &site.estate_id.to_string());
            asset_attrs
                .push(("site".to_owned(), RestrictedExpression::new_entity_uid(site_uid.clone())));
            let site_tags = site.site_override.map(|o| {
                (user_key.clone(), RestrictedExpression::new_string(o.as_str().to_owned()))
            });
            entities.push(
                Entity::new_with_tags(
                    site_uid,
                    [(
                        "estate".to_owned(),
                        RestrictedExpression::new_entity_uid(estate_uid.clone()),
                    )],
                    [],
                    site_tags,
                )
                .map_err(|e| format!("{e:?}"))?,
            );
            let group = |role| self.group_uid(site.estate_id, role);
            entities.push(
                Entity::new(
                    estate_uid,
                    [
                        ("viewers", EstateRole::Viewer),
                        ("editors", EstateRole::Editor),
                        ("admins", EstateRole::Admin),
                    ]
                    .into_iter()
                    .map(|(attr, role)| {
                        (attr.to_owned(), RestrictedExpression::new_entity_uid(group(role)))
                    })
                    .collect(),
                    HashSet::new(),
                )
                .map_err(|e| format!("{e:?}"))?,
            );
            // owner in admin in editor in viewer: each role's group is in the
            // group of the role below it.
            let mut below = None;
            for role in EstateRole::ALL {
                entities.push(Entity::new_no_attrs(
                    group(role),
                    below.map(group).into_iter().collect(),
                ));
                below = Some(role);
            }
        }
        entities.push(
            Entity::new_with_tags(
                Self::uid(&self.asset_type, &s.asset.to_string()),
                asset_attrs,
                [],
                asset_tags,
            )
            .map_err(|e| format!("{e:?}"))?,
        );

        if validate {
            Entities::from_entities(entities, Some(&self.schema)).map_err(|e| format!("{e:?}"))
        } else {
            Entities::from_entities(
                entities.into_iter().chain(self.action_entities.iter().cloned()),
                None,
            )
            .map_err(|e| format!("{e:?}"))
        }
    }

    /// The request "may the scenario's user do `level` on its asset, now?".
    pub fn request(
        &self,
        s: &Scenario,
        level: AssetLevel,
        validate: bool,
    ) -> Result<Request, String> {
        let context = Context::from_pairs([("now".to_owned(), datetime(s.now)?)])
            .map_err(|e| format!("{e:?}"))?;
        Request::new(
            self.user_uid(s.user),
            self.action(level).clone(),
            Self::uid(&self.asset_type, &s.asset.to_string()),
            context,
            validate.then_some(&self.schema),
        )
        .map_err(|e| format!("{e:?}"))
    }

    /// Cedar's decision; an evaluation error in any policy is an error here
    /// (Cedar would skip the policy and might deny for the wrong reason).
    pub fn decide(&self, request: &Request, entities: &Entities) -> Result<bool, String> {
        let response = self.authorizer.is_authorized(request, &self.policies, entities);
        let errors: Vec<String> =
            response.diagnostics().errors().map(ToString::to_string).collect();
        if !errors.is_empty() {
            return Err(format!("Cedar evaluation errors: {errors:?}"));
        }
        Ok(response.decision() == Decision::Allow)
    }

    /// The ids (`@id`) of the policies that allowed a request.
    pub fn reasons(&self, request: &Request, entities: &Entities) -> Vec<String> {
        let response = self.authorizer.is_authorized(request, &self.policies, entities);
        let mut ids: Vec<String> = response
            .diagnostics()
            .reason()
            .map(|id| {
                self.policies.annotation(id, "id").map_or_else(|| id.to_string(), ToOwned::to_owned)
            })
            .collect();
        ids.sort();
        ids
    }

    /// The highest level Cedar allows, asking from `full` down (the way an
    /// application would get "the effective level" out of Cedar).
    pub fn highest_level(
        &self,
        requests: &[Request; 4],
        entities: &Entities,
    ) -> Option<AssetLevel> {
        AssetLevel::ALL.into_iter().rev().find(|&l| {
            self.authorizer
                .is_authorized(&requests[l as usize], &self.policies, entities)
                .decision()
                == Decision::Allow
        })
    }
}

// ---------------------------------------------------------------------------
// The equivalence check
// ---------------------------------------------------------------------------

/// Runs every scenario through both sides, for every action, with entities
/// and requests validated against the schema, and also through entities
/// built without the schema (the benchmark's per-decision path). Returns the
/// number of decisions compared, or a description of the first difference.
pub fn check_equivalence(model: &CedarModel, scenarios: &[Scenario]) -> Result<usize, String> {
    let mut compared = 0;
    for (i, s) in scenarios.iter().enumerate() {
        let owned = s.facts();
        let facts = owned.facts();
        let level = effective_level(&facts);
        let validated = model.entities(s, true)?;
        let unvalidated = model.entities(s, false)?;
        let mut cedar_level = None;
        for action in AssetLevel::ALL {
            let keyholder = keyholder_allows(&facts, action);
            debug_assert_eq!(keyholder, level.is_some_and(|l| l >= action));
            let request = model.request(s, action, true)?;
            let cedar = model.decide(&request, &validated)?;
            let cedar_unvalidated =
                model.decide(&model.request(s, action, false)?, &unvalidated)?;
            if keyholder != cedar || cedar != cedar_unvalidated {
                return Err(format!(
                    "scenario #{i}: action {action}: keyholder {} (effective level {level:?}), \
                     Cedar {} (without schema: {}), Cedar reasons {:?}\n{s:#?}",
                    verdict(keyholder),
                    verdict(cedar),
                    verdict(cedar_unvalidated),
                    model.reasons(&request, &validated),
                ));
            }
            if cedar {
                cedar_level = Some(action);
            }
            compared += 1;
        }
        if cedar_level != level {
            return Err(format!(
                "scenario #{i}: keyholder level {level:?}, Cedar's highest allowed action \
                 {cedar_level:?}\n{s:#?}"
            ));
        }
    }
    Ok(compared)
}

const fn verdict(allowed: bool) -> &'static str {
    if allowed { "allows" } else { "denies" }
}

// ---------------------------------------------------------------------------
// Scenario generation
// ---------------------------------------------------------------------------

/// SplitMix64: small, deterministic, no dependency on a rand version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n small; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % n as u64).expect("n fits usize")
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// A fixed, millisecond aligned "now".
pub fn base_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().expect("valid date")
        + Duration::milliseconds(250)
}

/// Access expiries around `now`: never, long past, just past (1 ms), exactly
/// now (expired: `now >= at`), just ahead (1 ms), far ahead.
pub fn expiries(now: DateTime<Utc>) -> [Option<DateTime<Utc>>; 6] {
    [
        None,
        Some(now - Duration::days(3)),
        Some(now - Duration::milliseconds(1)),
        Some(now),
        Some(now + Duration::milliseconds(1)),
        Some(now + Duration::days(30)),
    ]
}

const SHARE_STATUSES: [ShareStatus; 3] =
    [ShareStatus::Active, ShareStatus::Revoked, ShareStatus::InvitationPending];

/// Every single path in isolation, every value of it, then `random` mixed
/// scenarios (several paths at once, possibly several households).
pub fn scenarios(seed: u64, random: usize) -> Vec<Scenario> {
    let user = Uuid::from_u128(0x1000);
    let asset = Uuid::from_u128(0x2000);
    let site_id = Uuid::from_u128(0x3000);
    let estate_id = Uuid::from_u128(0x4000);
    // Other people: possible collaborators and household heads.
    let people: Vec<Uuid> = (1..=5).map(|i| Uuid::from_u128(0x5000 + i)).collect();
    let now = base_now();
    let empty = Scenario::empty(user, asset, now);
    let mut out = vec![
        empty.clone(),
        Scenario { is_root: true, ..empty.clone() },
        Scenario { collaborators: vec![people[0], user], ..empty.clone() },
    ];
    for role in HouseholdRole::ALL {
        for head_collaborates in [false, true] {
            out.push(Scenario {
                collaborators: if head_collaborates { vec![people[0]] } else { vec![people[1]] },
                households: vec![(people[0], role)],
                ..empty.clone()
            });
        }
    }
    for permission in InvitationPermission::ALL {
        for status in SHARE_STATUSES {
            for at in expiries(now) {
                out.push(Scenario {
                    share: Some(ShareFact {
                        id: Uuid::from_u128(0x6000),
                        permission,
                        access_expires_at: at,
                        status,
                    }),
                    ..empty.clone()
                });
            }
        }
    }
    let estate_roles: Vec<Option<EstateRole>> =
        std::iter::once(None).chain(EstateRole::ALL.map(Some)).collect();
    let overrides: Vec<Option<SiteOverride>> =
        std::iter::once(None).chain(SiteOverride::ALL.map(Some)).collect();
    for &estate_role in &estate_roles {
        for &site_override in &overrides {
            out.push(Scenario {
                site: Some(SitePathFact { site_id, estate_id, estate_role, site_override }),
                ..empty.clone()
            });
        }
    }

    let mut rng = Rng::new(seed);
    for _ in 0..random {
        let now =
            base_now() + Duration::milliseconds(i64::try_from(rng.below(10_000)).expect("small"));
        let mut collaborators: Vec<Uuid> =
            people.iter().copied().filter(|_| rng.chance(40)).collect();
        if rng.chance(15) {
            collaborators.push(user);
        }
        let mut heads = people.clone();
        let mut households = Vec::new();
        for _ in 0..rng.below(4) {
            let head = heads.swap_remove(rng.below(heads.len()));
            households.push((head, rng.pick(&HouseholdRole::ALL)));
        }
        let share = rng.chance(45).then(|| ShareFact {
            id: Uuid::from_u128(0x6000),
            permission: rng.pick(&InvitationPermission::ALL),
            access_expires_at: rng.pick(&expiries(now)),
            status: if rng.chance(70) { ShareStatus::Active } else { rng.pick(&SHARE_STATUSES) },
        });
        let site = rng.chance(60).then(|| SitePathFact {
            site_id,
            estate_id,
            estate_role: rng.pick(&estate_roles),
            site_override: rng.pick(&overrides),
        });
        out.push(Scenario {
            user,
            asset,
            is_root: rng.chance(5),
            collaborators,
            households,
            share,
            site,
            now,
        });
    }
    out
}
