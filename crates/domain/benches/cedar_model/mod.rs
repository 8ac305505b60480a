//! Keyholder's asset access rules written as Cedar policies, the world
//! ("scenario") both sides are asked about, and the equivalence check between
//! the Cedar model and `keyholder_domain::asset::effective_level`.
//!
//! Shared by `benches/resolver_vs_cedar.rs` and `tests/cedar_equivalence.rs`
//! (included with `#[path]`); it lives in a directory without a `main.rs` so
//! cargo does not take it for a bench target of its own. Each includer uses a
//! different part of it, hence the `dead_code` allowance.
//!
//! - `policies.rs`: the Cedar schema and policy text.
//! - `scenario.rs`: the [`Scenario`] and the keyholder side's decision.
//! - `model.rs`: the Cedar side, [`CedarModel`]: entities, requests,
//!   decisions.
//! - `equivalence.rs`: [`check_equivalence`], both sides on the same
//!   scenarios.
//! - `generate.rs`: [`scenarios`] and the deterministic [`Rng`].
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

mod equivalence;
mod generate;
mod model;
mod policies;
mod scenario;

// Each includer takes a different part of these, hence the allowance.
#[allow(unused_imports)]
pub use {
    equivalence::check_equivalence,
    generate::{Rng, base_now, expiries, scenarios},
    model::CedarModel,
    policies::{POLICIES, SCHEMA},
    scenario::{Scenario, capability_for, keyholder_allows},
};
