//! What an explanation may disclose, and to whom (spec: "Explain access").
//! Root's powers here are decided once: root sees every resource, every
//! user's email and every path; everyone else sees their own access, and
//! another user's only where they administer the resource.

/// Who asks how a user reaches a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asker {
    /// Asking about their own access.
    pub myself: bool,
    pub is_root: bool,
}

impl Asker {
    /// Whether the asker may have an explanation at all: about their own
    /// access, wherever they see the resource; about someone else's, where
    /// they administer it. Root sees and administers everything.
    pub fn may_explain(self, sees: bool, administers: bool) -> bool {
        if self.myself { self.is_root || sees } else { self.is_root || administers }
    }

    /// Whether the explained user's email is shown: to themselves and root.
    pub fn sees_email(self) -> bool {
        self.myself || self.is_root
    }

    /// Whether every path is shown. An administrator asking about someone
    /// else sees only the paths that relate to the resource itself (not,
    /// say, which households the user belongs to).
    pub fn sees_every_path(self) -> bool {
        self.myself || self.is_root
    }

    /// Whether the asker may learn about a user's ties to an estate: their
    /// own, root's, or those of a user who is a member or an invitee there
    /// (anyone else is 404, so administrators cannot probe for accounts).
    pub fn may_ask_about(self, tied: bool) -> bool {
        self.myself || self.is_root || tied
    }
}

/// Whether `user_is_root` is listed among the people who reach an asset:
/// root reaches everything, and only root sees root listed.
pub fn lists_user(viewer_is_root: bool, user_is_root: bool) -> bool {
    viewer_is_root || !user_is_root
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Asker = Asker { myself: true, is_root: false };
    const ADMIN: Asker = Asker { myself: false, is_root: false };
    const ROOT: Asker = Asker { myself: false, is_root: true };

    #[test]
    fn i_may_explain_my_own_access_wherever_i_see_the_resource() {
        assert!(ME.may_explain(true, false));
        assert!(!ME.may_explain(false, false));
    }

    #[test]
    fn someone_elses_access_is_explained_only_where_i_administer() {
        assert!(ADMIN.may_explain(true, true));
        assert!(!ADMIN.may_explain(true, false));
    }

    #[test]
    fn root_may_explain_anyones_access_anywhere() {
        assert!(ROOT.may_explain(false, false));
        assert!(ROOT.sees_email());
        assert!(ROOT.sees_every_path());
        assert!(ROOT.may_ask_about(false));
    }

    #[test]
    fn an_administrator_sees_neither_the_email_nor_unrelated_paths() {
        assert!(!ADMIN.sees_email());
        assert!(!ADMIN.sees_every_path());
        assert!(ME.sees_email() && ME.sees_every_path());
    }

    #[test]
    fn users_without_ties_to_an_estate_are_hidden_from_its_administrators() {
        assert!(!ADMIN.may_ask_about(false));
        assert!(ADMIN.may_ask_about(true));
        assert!(ME.may_ask_about(false));
    }

    #[test]
    fn only_root_sees_root_among_an_assets_people() {
        assert!(!lists_user(false, true));
        assert!(lists_user(true, true));
        assert!(lists_user(false, false));
    }
}
