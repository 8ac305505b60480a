//! The equivalence check: both sides asked the same questions.

use keyholder_domain::AssetLevel;
use keyholder_domain::asset::effective_level;

use super::{CedarModel, Scenario, keyholder_allows};

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
