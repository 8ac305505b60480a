//! The Cedar side: the parsed schema and policies, the entities and request
//! built from a [`Scenario`], and Cedar's decision.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};
use chrono::{DateTime, Utc};
use keyholder_domain::asset::{ShareFact, ShareStatus, SitePathFact};
use keyholder_domain::{AssetLevel, EstateRole, HouseholdRole};
use uuid::Uuid;

use super::{POLICIES, SCHEMA, Scenario};

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

    /// The asset's site, as an entity id.
    fn site_uid(&self, site: SitePathFact) -> EntityUid {
        Self::uid(&self.site_type, &site.site_id.to_string())
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
        entities.push(self.user_entity(s, &user_key)?);
        let asset = self.asset_entity(s, &user_key)?;
        if let Some(site) = s.site {
            self.push_site_entities(site, &user_key, &mut entities)?;
        }
        entities.push(asset);

        if validate {
            Entities::from_entities(entities, Some(&self.schema)).map_err(debug_text)
        } else {
            Entities::from_entities(
                entities.into_iter().chain(self.action_entities.iter().cloned()),
                None,
            )
            .map_err(debug_text)
        }
    }

    /// The user: its key, whether it is root, and the heads of its households
    /// by its role there; its parent is the group of its estate role at the
    /// asset's site, if it has one.
    fn user_entity(&self, s: &Scenario, user_key: &str) -> Result<Entity, String> {
        let heads = |role: HouseholdRole| {
            self.users(s.households.iter().filter(move |(_, r)| *r == role).map(|&(head, _)| head))
        };
        let household_heads = RestrictedExpression::new_record([
            ("viewer".to_owned(), heads(HouseholdRole::Viewer)),
            ("editor".to_owned(), heads(HouseholdRole::Editor)),
            ("manager".to_owned(), heads(HouseholdRole::Manager)),
        ])
        .map_err(debug_text)?;
        let user_parents: HashSet<EntityUid> = s
            .site
            .and_then(|site| Some(self.group_uid(site.estate_id, site.estate_role?)))
            .into_iter()
            .collect();
        Entity::new_with_tags(
            self.user_uid(s.user),
            [
                ("key".to_owned(), cedar_string(user_key)),
                ("is_root".to_owned(), RestrictedExpression::new_bool(s.is_root)),
                ("household_heads".to_owned(), household_heads),
            ],
            user_parents,
            [],
        )
        .map_err(debug_text)
    }

    /// The asset: its collaborators and its site, with the user's share as a
    /// tag.
    fn asset_entity(&self, s: &Scenario, user_key: &str) -> Result<Entity, String> {
        let mut asset_attrs =
            vec![("collaborators".to_owned(), self.users(s.collaborators.iter().copied()))];
        if let Some(site) = s.site {
            asset_attrs.push((
                "site".to_owned(),
                RestrictedExpression::new_entity_uid(self.site_uid(site)),
            ));
        }
        let asset_tags = match s.share {
            Some(share) => Some((user_key.to_owned(), share_tag(share)?)),
            None => None,
        };
        Entity::new_with_tags(
            Self::uid(&self.asset_type, &s.asset.to_string()),
            asset_attrs,
            [],
            asset_tags,
        )
        .map_err(debug_text)
    }

    /// The asset's site (with the user's override there as a tag), its estate
    /// and the estate's role groups.
    fn push_site_entities(
        &self,
        site: SitePathFact,
        user_key: &str,
        entities: &mut Vec<Entity>,
    ) -> Result<(), String> {
        let estate_uid = Self::uid(&self.estate_type, &site.estate_id.to_string());
        let site_tags = site.site_override.map(|o| (user_key.to_owned(), cedar_string(o.as_str())));
        entities.push(
            Entity::new_with_tags(
                self.site_uid(site),
                [("estate".to_owned(), RestrictedExpression::new_entity_uid(estate_uid.clone()))],
                [],
                site_tags,
            )
            .map_err(debug_text)?,
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
            .map_err(debug_text)?,
        );
        // owner in admin in editor in viewer: each role's group is in the
        // group of the role below it.
        let mut below = None;
        for role in EstateRole::ALL {
            entities
                .push(Entity::new_no_attrs(group(role), below.map(group).into_iter().collect()));
            below = Some(role);
        }
        Ok(())
    }

    /// The request "may the scenario's user do `level` on its asset, now?".
    pub fn request(
        &self,
        s: &Scenario,
        level: AssetLevel,
        validate: bool,
    ) -> Result<Request, String> {
        let context =
            Context::from_pairs([("now".to_owned(), datetime(s.now)?)]).map_err(debug_text)?;
        Request::new(
            self.user_uid(s.user),
            self.action(level).clone(),
            Self::uid(&self.asset_type, &s.asset.to_string()),
            context,
            validate.then_some(&self.schema),
        )
        .map_err(debug_text)
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

/// The user's share as the asset's tag: its permission, its status and, if
/// it has one, its access expiry.
fn share_tag(share: ShareFact) -> Result<RestrictedExpression, String> {
    let mut fields = vec![
        ("permission".to_owned(), cedar_string(share.permission.as_str())),
        ("status".to_owned(), cedar_string(share_status_name(share.status))),
    ];
    if let Some(at) = share.access_expires_at {
        fields.push(("access_expires_at".to_owned(), datetime(at)?));
    }
    RestrictedExpression::new_record(fields).map_err(debug_text)
}

/// A Cedar string holding `value`.
fn cedar_string(value: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(value.to_owned())
}

/// An error as its `Debug` text, the form every Cedar error is reported in.
fn debug_text(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}
