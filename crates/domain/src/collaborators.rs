//! Collaborators: the last-collaborator rule (single and bulk) and the
//! common/partial split of the bulk dialog.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::RefusalKind;
use crate::roles::AssetLevel;

/// Why a collaborator change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollaboratorRefusal {
    /// The user is already a collaborator (409).
    #[error("already a collaborator")]
    AlreadyCollaborator,
    /// The user is not a collaborator of the asset (404).
    #[error("not a collaborator")]
    NotACollaborator,
    /// The change would leave these assets with no collaborator (409).
    #[error("an asset must keep at least one collaborator")]
    LastCollaborator { asset_ids: Vec<Uuid> },
    /// Bulk: assets the caller cannot see (404), named.
    #[error("assets not found")]
    AssetsNotFound { asset_ids: Vec<Uuid> },
    /// Bulk: assets the caller can see without full access (403), named.
    #[error("full access is needed on every selected asset")]
    FullAccessRequired { asset_ids: Vec<Uuid> },
    /// Bulk: an empty selection (422).
    #[error("select at least one asset")]
    EmptySelection,
}

impl CollaboratorRefusal {
    pub const fn code(&self) -> &'static str {
        match self {
            Self::AlreadyCollaborator => "already_collaborator",
            Self::NotACollaborator => "not_a_collaborator",
            Self::LastCollaborator { .. } => "last_collaborator",
            Self::AssetsNotFound { .. } => "assets_not_found",
            Self::FullAccessRequired { .. } => "full_access_required",
            Self::EmptySelection => "empty_selection",
        }
    }

    pub const fn detail(&self) -> &'static str {
        match self {
            Self::AlreadyCollaborator => "The user is already a collaborator of this asset.",
            Self::NotACollaborator => "The user is not a collaborator of this asset.",
            Self::LastCollaborator { .. } => {
                "An asset always keeps at least one collaborator; the change would leave the named assets with none."
            }
            Self::AssetsNotFound { .. } => {
                "Some selected assets do not exist or are not visible to you."
            }
            Self::FullAccessRequired { .. } => {
                "Managing collaborators needs full access to every selected asset."
            }
            Self::EmptySelection => "Select at least one asset.",
        }
    }

    pub const fn kind(&self) -> RefusalKind {
        match self {
            Self::AlreadyCollaborator | Self::LastCollaborator { .. } => RefusalKind::Conflict,
            Self::NotACollaborator | Self::AssetsNotFound { .. } => RefusalKind::NotFound,
            Self::FullAccessRequired { .. } => RefusalKind::Forbidden,
            Self::EmptySelection => RefusalKind::Invalid,
        }
    }

    /// The assets the refusal names, if any.
    pub fn asset_ids(&self) -> &[Uuid] {
        match self {
            Self::LastCollaborator { asset_ids }
            | Self::AssetsNotFound { asset_ids }
            | Self::FullAccessRequired { asset_ids } => asset_ids,
            _ => &[],
        }
    }
}

/// Adding a collaborator to one asset.
pub fn check_add_collaborator(
    collaborators: &[Uuid],
    candidate: Uuid,
) -> Result<(), CollaboratorRefusal> {
    if collaborators.contains(&candidate) {
        Err(CollaboratorRefusal::AlreadyCollaborator)
    } else {
        Ok(())
    }
}

/// Removing one collaborator from one asset: they must be one, and not the
/// last.
pub fn check_remove_collaborator(
    asset_id: Uuid,
    collaborators: &[Uuid],
    removing: Uuid,
) -> Result<(), CollaboratorRefusal> {
    if !collaborators.contains(&removing) {
        return Err(CollaboratorRefusal::NotACollaborator);
    }
    if collaborators.iter().all(|&c| c == removing) {
        return Err(CollaboratorRefusal::LastCollaborator { asset_ids: vec![asset_id] });
    }
    Ok(())
}

/// The selected assets (in selection order, without repeats) that would be
/// left without a collaborator if every user in `removing` were removed from
/// every selected asset. `pairs` are the current (asset id, user id)
/// collaborator rows; pairs of unselected assets are ignored.
pub fn assets_left_without_collaborator(
    selection: &[Uuid],
    pairs: &[(Uuid, Uuid)],
    removing: &[Uuid],
) -> Vec<Uuid> {
    let removing: HashSet<Uuid> = removing.iter().copied().collect();
    let kept: HashSet<Uuid> = pairs
        .iter()
        .filter(|(_, user)| !removing.contains(user))
        .map(|&(asset, _)| asset)
        .collect();
    let mut seen = HashSet::with_capacity(selection.len());
    selection.iter().copied().filter(|a| seen.insert(*a) && !kept.contains(a)).collect()
}

/// Bulk removal: refuses with `last_collaborator` naming the assets that
/// would be left with none (the whole call then does nothing).
pub fn check_bulk_remove(
    selection: &[Uuid],
    pairs: &[(Uuid, Uuid)],
    removing: &[Uuid],
) -> Result<(), CollaboratorRefusal> {
    let orphaned = assets_left_without_collaborator(selection, pairs, removing);
    if orphaned.is_empty() {
        Ok(())
    } else {
        Err(CollaboratorRefusal::LastCollaborator { asset_ids: orphaned })
    }
}

/// Ending an estate membership (a removal or leaving) takes the member's
/// collaborator rows on the estate's assets with it, so access does not
/// outlive membership; it is refused with `last_collaborator` naming the
/// assets where the member is the only collaborator (the caller makes
/// someone else a collaborator there, or moves the asset out, first), as
/// an asset always keeps at least one. `pairs` are the collaborator rows
/// of the estate's assets where the member collaborates.
pub fn check_membership_end(
    pairs: &[(Uuid, Uuid)],
    member: Uuid,
) -> Result<(), CollaboratorRefusal> {
    let mut theirs: Vec<Uuid> =
        pairs.iter().filter(|(_, user)| *user == member).map(|&(asset, _)| asset).collect();
    theirs.sort_unstable();
    check_bulk_remove(&theirs, pairs, &[member])
}

/// Bulk add: the (asset id, user id) rows to insert so that every user in
/// `adding` is a collaborator on every selected asset. Existing pairs are
/// left as they are. Ordered by user (as given), then asset (selection order).
pub fn bulk_add_pairs(
    selection: &[Uuid],
    pairs: &[(Uuid, Uuid)],
    adding: &[Uuid],
) -> Vec<(Uuid, Uuid)> {
    let existing: HashSet<(Uuid, Uuid)> = pairs.iter().copied().collect();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for &user in adding {
        for &asset in selection {
            if !existing.contains(&(asset, user)) && seen.insert((asset, user)) {
                out.push((asset, user));
            }
        }
    }
    out
}

/// Bulk access check: every selected asset must be visible (else 404 naming
/// the invisible ones) and fully accessible (else 403 naming the others).
/// `levels` gives the caller's effective level per selected asset; an asset
/// that does not exist is given as `None`.
pub fn check_bulk_access(levels: &[(Uuid, Option<AssetLevel>)]) -> Result<(), CollaboratorRefusal> {
    if levels.is_empty() {
        return Err(CollaboratorRefusal::EmptySelection);
    }
    let unseen: Vec<Uuid> = levels.iter().filter(|(_, l)| l.is_none()).map(|&(a, _)| a).collect();
    if !unseen.is_empty() {
        return Err(CollaboratorRefusal::AssetsNotFound { asset_ids: unseen });
    }
    let not_full: Vec<Uuid> =
        levels.iter().filter(|(_, l)| *l != Some(AssetLevel::Full)).map(|&(a, _)| a).collect();
    if !not_full.is_empty() {
        return Err(CollaboratorRefusal::FullAccessRequired { asset_ids: not_full });
    }
    Ok(())
}

/// Users split into those on every selected asset and those on some.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CollaboratorSplit {
    /// Collaborators of every selected asset.
    pub common: Vec<Uuid>,
    /// Collaborators of some selected assets, with those assets' ids (in
    /// selection order).
    pub partial: Vec<(Uuid, Vec<Uuid>)>,
}

/// Splits the collaborators of the selected assets into common and partial.
///
/// Ordering is stable: users appear in the order of their first pair in
/// `pairs` (so a caller who orders the rows by username gets lists ordered by
/// username); asset ids in `partial` follow the selection order. Repeated
/// selection ids and pairs, and pairs of unselected assets, are ignored.
pub fn split_common_partial(selection: &[Uuid], pairs: &[(Uuid, Uuid)]) -> CollaboratorSplit {
    let mut position: HashMap<Uuid, usize> = HashMap::with_capacity(selection.len());
    for &asset in selection {
        let next = position.len();
        position.entry(asset).or_insert(next);
    }
    let total = position.len();

    // Users in first-seen order, with the selection positions they hold.
    let mut users: Vec<(Uuid, Vec<usize>)> = Vec::new();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for &(asset, user) in pairs {
        let Some(&pos) = position.get(&asset) else {
            continue;
        };
        let i = *index.entry(user).or_insert_with(|| {
            users.push((user, Vec::new()));
            users.len() - 1
        });
        let held = &mut users[i].1;
        if !held.contains(&pos) {
            held.push(pos);
        }
    }

    // The selection without repeats, indexed by position.
    let mut ordered = vec![Uuid::nil(); total];
    for (&asset, &pos) in &position {
        ordered[pos] = asset;
    }

    let mut split = CollaboratorSplit::default();
    for (user, mut held) in users {
        if held.len() == total {
            split.common.push(user);
        } else {
            held.sort_unstable();
            split.partial.push((user, held.into_iter().map(|p| ordered[p]).collect()));
        }
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_removal_keeps_one_collaborator() {
        let asset = Uuid::new_v4();
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        assert_eq!(check_remove_collaborator(asset, &[a, b], a), Ok(()));
        assert_eq!(
            check_remove_collaborator(asset, &[a], a),
            Err(CollaboratorRefusal::LastCollaborator { asset_ids: vec![asset] })
        );
        assert_eq!(
            check_remove_collaborator(asset, &[a], b),
            Err(CollaboratorRefusal::NotACollaborator)
        );
        assert_eq!(check_add_collaborator(&[a], a), Err(CollaboratorRefusal::AlreadyCollaborator));
        assert_eq!(check_add_collaborator(&[a], b), Ok(()));
    }

    #[test]
    fn bulk_removal_names_orphaned_assets() {
        let (v1, v2, v3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (test, test2) = (Uuid::new_v4(), Uuid::new_v4());
        let pairs = [(v1, test), (v1, test2), (v2, test), (v3, test2)];
        let sel = [v1, v2, v3];
        assert_eq!(assets_left_without_collaborator(&sel, &pairs, &[test]), vec![v2]);
        assert_eq!(
            assets_left_without_collaborator(&sel, &pairs, &[test, test2]),
            vec![v1, v2, v3]
        );
        assert!(assets_left_without_collaborator(&sel, &pairs, &[]).is_empty());
        let err = check_bulk_remove(&sel, &pairs, &[test2]).expect_err("v3 orphaned");
        assert_eq!(err.code(), "last_collaborator");
        assert_eq!(err.asset_ids(), &[v3]);
    }

    #[test]
    fn ending_a_membership_never_leaves_an_asset_without_collaborator() {
        let (shared, only_theirs, also_only) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (member, other) = (Uuid::new_v4(), Uuid::new_v4());
        // Shared with someone else: the member's row may go.
        assert_eq!(check_membership_end(&[(shared, member), (shared, other)], member), Ok(()));
        assert_eq!(check_membership_end(&[], member), Ok(()));
        // The only collaborator somewhere: refused, naming every such asset.
        let pairs = [(shared, member), (shared, other), (only_theirs, member), (also_only, member)];
        let err = check_membership_end(&pairs, member).expect_err("two assets would be orphaned");
        assert_eq!(err.code(), "last_collaborator");
        assert_eq!(err.kind().http_status(), 409);
        let mut named = vec![only_theirs, also_only];
        named.sort_unstable();
        assert_eq!(err.asset_ids(), named.as_slice());
    }

    #[test]
    fn bulk_add_skips_existing_pairs() {
        let (v1, v2) = (Uuid::new_v4(), Uuid::new_v4());
        let (test, test2) = (Uuid::new_v4(), Uuid::new_v4());
        let pairs = [(v1, test), (v2, test), (v1, test2)];
        assert_eq!(bulk_add_pairs(&[v1, v2], &pairs, &[test, test2]), vec![(v2, test2)]);
    }

    #[test]
    fn bulk_access_404_before_403() {
        let (v1, v2, v3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let levels = [(v1, Some(AssetLevel::Full)), (v2, Some(AssetLevel::Manage)), (v3, None)];
        let err = check_bulk_access(&levels).expect_err("v3 unseen");
        assert_eq!(err.kind().http_status(), 404);
        assert_eq!(err.asset_ids(), &[v3]);
        let err = check_bulk_access(&levels[..2]).expect_err("v2 not full");
        assert_eq!(err.kind().http_status(), 403);
        assert_eq!(err.asset_ids(), &[v2]);
        assert_eq!(check_bulk_access(&levels[..1]), Ok(()));
        assert_eq!(check_bulk_access(&[]), Err(CollaboratorRefusal::EmptySelection));
    }

    #[test]
    fn seed_example_test_common_test2_partial() {
        // The seed: `test` has access to both vehicles, `test2` to only one.
        let (v1, v2) = (Uuid::new_v4(), Uuid::new_v4());
        let (test, test2) = (Uuid::new_v4(), Uuid::new_v4());
        let pairs = [(v1, test), (v2, test), (v2, test2)];
        let split = split_common_partial(&[v1, v2], &pairs);
        assert_eq!(split.common, vec![test]);
        assert_eq!(split.partial, vec![(test2, vec![v2])]);
    }

    #[test]
    fn split_is_stable_and_ignores_noise() {
        let (v1, v2, v3, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let pairs = [(v3, b), (v1, a), (other, c), (v2, a), (v1, b), (v1, b), (v3, a)];
        let split = split_common_partial(&[v1, v2, v3, v1], &pairs);
        assert_eq!(split.common, vec![a]);
        assert_eq!(split.partial, vec![(b, vec![v1, v3])]);
        assert_eq!(split_common_partial(&[], &pairs), CollaboratorSplit::default());
    }
}
