//! The SQL forms of rules the domain states, built from the domain's enums
//! so that no statement spells them by hand and none can drift from the
//! domain: who administers an estate, who is kept off a site, and when a
//! pending invitation reads as expired. Each function returns a fragment
//! over the columns it is given; the text is what the statements carried
//! before, so their plans (and the indexes that serve them) are unchanged.

use keyholder_domain::{EstateRole, InvitationState, SiteOverride, SiteRole, effective_site_role};

/// "Never" as an expiry sort key: after every expiry a client can set. The
/// expiry index (`migrations/*/..._list_indexes`) holds the same text, so
/// the index serves the sort; keep them identical.
pub const NEVER: &str = "'9999-12-31 23:59:59'";

/// A value as an SQL string literal. Enum names are lower-case words, but
/// quotes are doubled all the same.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `{role} IN ('admin', 'owner')`: the estate roles that administer the
/// estate, as [`EstateRole::administers`] says.
pub fn administers(role: &str) -> String {
    let roles: Vec<String> = EstateRole::ALL
        .into_iter()
        .filter(|r| r.administers())
        .map(|r| literal(r.as_str()))
        .collect();
    format!("{role} IN ({})", roles.join(", "))
}

/// `({role} = 'editor' AND EXISTS (... {override} = 'admin'))`, as a
/// builder: the estate roles that administer a site only through a site
/// override, and that override, as [`keyholder_domain::effective_site_role`]
/// says. Returns `(roles, override)` fragments: `{role} IN (...)` (or
/// `{role} = '...'` for one role) and `{over} = '...'`.
pub fn site_admin_by_override(role: &str, over: &str) -> (String, String) {
    let lifted = SiteOverride::ALL
        .into_iter()
        .find(|o| o.role() == Some(SiteRole::Admin))
        .unwrap_or(SiteOverride::Admin);
    let roles: Vec<String> = EstateRole::ALL
        .into_iter()
        .filter(|r| {
            !r.administers() && effective_site_role(*r, Some(lifted)) == Some(SiteRole::Admin)
        })
        .map(|r| literal(r.as_str()))
        .collect();
    let roles = match roles.as_slice() {
        [one] => format!("{role} = {one}"),
        many => format!("{role} IN ({})", many.join(", ")),
    };
    (roles, format!("{over} = {}", literal(lifted.as_str())))
}

/// `{role} = 'none'`: a site override that keeps the member off the site.
pub fn kept_off(role: &str) -> String {
    format!("{role} = {}", literal(SiteOverride::None.as_str()))
}

fn status_is(a: &str, state: InvitationState) -> String {
    format!("{a}.status = {}", literal(state.as_str()))
}

/// Invitations `{a}` that read as pending at `{now}`: stored pending and not
/// past their expiry ([`keyholder_domain::invitation::effective_state`]).
/// The `COALESCE` form (not `IS NULL OR`) lets the sorted covering indexes
/// serve it as a range.
pub fn reads_pending(a: &str, now: &str) -> String {
    format!(
        "{} AND COALESCE({a}.expires_at, {NEVER}) > {now}",
        status_is(a, InvitationState::Pending)
    )
}

/// Invitations `{a}` that read as expired at `{now}`: stored expired, or
/// stored pending and past their expiry.
pub fn reads_expired(a: &str, now: &str) -> String {
    format!("({} OR ({}))", status_is(a, InvitationState::Expired), lapsed_coalesced(a, now))
}

fn lapsed_coalesced(a: &str, now: &str) -> String {
    format!(
        "{} AND COALESCE({a}.expires_at, {NEVER}) <= {now}",
        status_is(a, InvitationState::Pending)
    )
}

/// Invitations `{a}` stored pending but past their expiry at `{now}` (what
/// the expiry sweeper writes `expired` on); a row without an expiry never
/// lapses.
pub fn lapsed(a: &str, now: &str) -> String {
    format!("{} AND {a}.expires_at <= {now}", status_is(a, InvitationState::Pending))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_editor_with_an_admin_override_administers_a_site_through_it() {
        let (roles, over) = site_admin_by_override("m.role", "o.role");
        assert_eq!(roles, "m.role = 'editor'");
        assert_eq!(over, "o.role = 'admin'");
    }

    // The texts the statements carried when these were written by hand;
    // an index or a plan may depend on them.
    #[test]
    fn fragments_keep_the_statements_text() {
        assert_eq!(administers("m.role"), "m.role IN ('admin', 'owner')");
        assert_eq!(kept_off("o.role"), "o.role = 'none'");
        assert_eq!(
            reads_pending("x", "$3"),
            "x.status = 'pending' AND COALESCE(x.expires_at, '9999-12-31 23:59:59') > $3"
        );
        assert_eq!(
            reads_expired("x", "$3"),
            "(x.status = 'expired' OR (x.status = 'pending' AND \
             COALESCE(x.expires_at, '9999-12-31 23:59:59') <= $3))"
        );
        assert_eq!(lapsed("i", "$1"), "i.status = 'pending' AND i.expires_at <= $1");
    }
}
