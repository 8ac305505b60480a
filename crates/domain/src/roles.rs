//! The ordered role and level enums.
//!
//! Every enum is declared low to high, so the derived `Ord` is the spec's order
//! (`viewer < editor < admin < owner`, `view < edit < manage < full`, ...).
//! Each has `as_str`, `FromStr` (lower-case names only; anything else is
//! [`ValueError::OneOf`], "must be one of ..."), `Display`, serde with the
//! lower-case names, `ALL` in order, and `OPTIONS` (`None`, then `ALL`).

use serde::{Deserialize, Serialize};

use crate::values::ValueError;

/// The error of parsing a role or level name.
pub type UnknownValue = ValueError;

macro_rules! ordered_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $allowed:literal { $($variant:ident => $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        // `Serialize` and `Deserialize` are serde's, imported where the macro is used.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, low to high.
            pub const ALL: [Self; ordered_enum!(@count $($variant)+)] = [$(Self::$variant),+];
            /// `None`, then every value low to high: what an optional field may hold.
            pub const OPTIONS: [Option<Self>; 1 + ordered_enum!(@count $($variant)+)] =
                [None, $(Some(Self::$variant)),+];
            /// The allowed names, for messages: "must be one of ...".
            pub const ALLOWED: &'static str = $allowed;

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::roles::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::values::ValueError::OneOf { allowed: $allowed }),
                }
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::roles::UnknownValue;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
    };
    (@count $($t:ident)+) => { 0 $(+ ordered_enum!(@one $t))+ };
    (@one $t:ident) => { 1 };
}
pub(crate) use ordered_enum;

ordered_enum!(
    /// A role in an estate.
    EstateRole, "viewer, editor, admin, owner" {
        Viewer => "viewer",
        Editor => "editor",
        Admin => "admin",
        Owner => "owner",
    }
);

ordered_enum!(
    /// An (effective) role at a site.
    SiteRole, "viewer, editor, admin" {
        Viewer => "viewer",
        Editor => "editor",
        Admin => "admin",
    }
);

ordered_enum!(
    /// A site-specific override of a member's default site role; `none` keeps
    /// the member off the site.
    SiteOverride, "none, viewer, editor, admin" {
        None => "none",
        Viewer => "viewer",
        Editor => "editor",
        Admin => "admin",
    }
);

ordered_enum!(
    /// An access level on an asset.
    AssetLevel, "view, edit, manage, full" {
        View => "view",
        Edit => "edit",
        Manage => "manage",
        Full => "full",
    }
);

ordered_enum!(
    /// A member's role in a household.
    HouseholdRole, "viewer, editor, manager" {
        Viewer => "viewer",
        Editor => "editor",
        Manager => "manager",
    }
);

ordered_enum!(
    /// The permission an asset invitation (and the share it leaves) carries.
    InvitationPermission, "view, edit, manage" {
        View => "view",
        Edit => "edit",
        Manage => "manage",
    }
);

impl EstateRole {
    /// Admin and owner administer the estate (and every site in it).
    pub const fn administers(self) -> bool {
        matches!(self, Self::Admin | Self::Owner)
    }
}

impl SiteRole {
    /// The asset level a site role gives on assets placed at the site:
    /// viewer → view, editor → edit, admin → manage.
    pub const fn asset_level(self) -> AssetLevel {
        match self {
            Self::Viewer => AssetLevel::View,
            Self::Editor => AssetLevel::Edit,
            Self::Admin => AssetLevel::Manage,
        }
    }
}

impl SiteOverride {
    /// The site role this override stands for; `None` for `none` (kept off).
    pub const fn role(self) -> Option<SiteRole> {
        match self {
            Self::None => None,
            Self::Viewer => Some(SiteRole::Viewer),
            Self::Editor => Some(SiteRole::Editor),
            Self::Admin => Some(SiteRole::Admin),
        }
    }

    /// The override standing for an effective site role (`None` → `none`).
    pub const fn from_role(role: Option<SiteRole>) -> Self {
        match role {
            None => Self::None,
            Some(SiteRole::Viewer) => Self::Viewer,
            Some(SiteRole::Editor) => Self::Editor,
            Some(SiteRole::Admin) => Self::Admin,
        }
    }
}

impl From<SiteRole> for SiteOverride {
    fn from(role: SiteRole) -> Self {
        Self::from_role(Some(role))
    }
}

impl HouseholdRole {
    /// viewer → view, editor → edit, manager → manage.
    pub const fn level(self) -> AssetLevel {
        match self {
            Self::Viewer => AssetLevel::View,
            Self::Editor => AssetLevel::Edit,
            Self::Manager => AssetLevel::Manage,
        }
    }
}

impl InvitationPermission {
    /// view → view, edit → edit, manage → manage.
    pub const fn level(self) -> AssetLevel {
        match self {
            Self::View => AssetLevel::View,
            Self::Edit => AssetLevel::Edit,
            Self::Manage => AssetLevel::Manage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_low_to_high() {
        assert!(EstateRole::Viewer < EstateRole::Editor);
        assert!(EstateRole::Editor < EstateRole::Admin);
        assert!(EstateRole::Admin < EstateRole::Owner);
        assert!(SiteOverride::None < SiteOverride::Viewer);
        assert!(SiteOverride::Editor < SiteOverride::Admin);
        assert!(AssetLevel::Manage < AssetLevel::Full);
        assert!(HouseholdRole::Editor < HouseholdRole::Manager);
        assert!(InvitationPermission::Edit < InvitationPermission::Manage);
        assert!(EstateRole::ALL.is_sorted());
        assert!(SiteRole::ALL.is_sorted());
        assert!(SiteOverride::ALL.is_sorted());
        assert!(AssetLevel::ALL.is_sorted());
        assert!(HouseholdRole::ALL.is_sorted());
        assert!(InvitationPermission::ALL.is_sorted());
    }

    #[test]
    fn names_round_trip() {
        for r in EstateRole::ALL {
            assert_eq!(r.as_str().parse::<EstateRole>(), Ok(r));
            assert_eq!(r.to_string(), r.as_str());
        }
        for r in SiteOverride::ALL {
            assert_eq!(r.as_str().parse::<SiteOverride>(), Ok(r));
        }
        for r in AssetLevel::ALL {
            assert_eq!(r.as_str().parse::<AssetLevel>(), Ok(r));
        }
        for r in HouseholdRole::ALL {
            assert_eq!(r.as_str().parse::<HouseholdRole>(), Ok(r));
        }
        for r in InvitationPermission::ALL {
            assert_eq!(r.as_str().parse::<InvitationPermission>(), Ok(r));
        }
        for r in SiteRole::ALL {
            assert_eq!(SiteRole::try_from(r.as_str()), Ok(r));
        }
    }

    #[test]
    fn unknown_names_say_what_is_allowed() {
        let err = "Owner".parse::<EstateRole>().expect_err("case matters");
        assert_eq!(err.to_string(), "must be one of viewer, editor, admin, owner");
        let err = "full".parse::<InvitationPermission>().expect_err("no full");
        assert_eq!(err.to_string(), "must be one of view, edit, manage");
        let err = "owner".parse::<SiteRole>().expect_err("no site owner");
        assert_eq!(err.to_string(), "must be one of viewer, editor, admin");
    }

    #[test]
    fn serde_uses_the_lower_case_names() {
        let json = serde_json::to_string(&SiteOverride::None).expect("serialise");
        assert_eq!(json, "\"none\"");
        let r: EstateRole = serde_json::from_str("\"owner\"").expect("deserialise");
        assert_eq!(r, EstateRole::Owner);
        assert!(serde_json::from_str::<EstateRole>("\"Owner\"").is_err());
        let all = serde_json::to_string(&AssetLevel::ALL).expect("serialise");
        assert_eq!(all, r#"["view","edit","manage","full"]"#);
        let p: InvitationPermission = serde_json::from_str("\"manage\"").expect("deserialise");
        assert_eq!(p, InvitationPermission::Manage);
        let h: HouseholdRole = serde_json::from_str("\"manager\"").expect("deserialise");
        assert_eq!(h, HouseholdRole::Manager);
    }

    #[test]
    fn conversions() {
        assert_eq!(SiteRole::Viewer.asset_level(), AssetLevel::View);
        assert_eq!(SiteRole::Editor.asset_level(), AssetLevel::Edit);
        assert_eq!(SiteRole::Admin.asset_level(), AssetLevel::Manage);
        assert_eq!(HouseholdRole::Manager.level(), AssetLevel::Manage);
        assert_eq!(InvitationPermission::View.level(), AssetLevel::View);
        assert_eq!(SiteOverride::None.role(), None);
        for r in SiteRole::ALL {
            assert_eq!(SiteOverride::from(r).role(), Some(r));
        }
        assert!(EstateRole::Owner.administers());
        assert!(!EstateRole::Editor.administers());
    }
}
