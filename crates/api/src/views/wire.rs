//! The closed sets of values the API sends and accepts, one OpenAPI
//! component each (`EstateRole`, `InvitationStatus`...), so that every field
//! and query parameter holding one names the same enum. Each value is spelled
//! once here, as on the wire; the tests below hold every set equal to the
//! domain's (or the store's) own list, so the contract cannot drift from
//! what the server answers. Fields that keep the text form internally point
//! at these with `#[schema(value_type = ...)]`.

use utoipa::openapi::schema::{AnyOfBuilder, OneOfBuilder, Type};
use utoipa::openapi::{Ref, RefOr, Schema};

/// Declares a unit enum whose variants serialize as the given strings, with
/// its OpenAPI schema (a string enum), `ALL` and `as_str`.
macro_rules! wire_enum {
    ($(
        $(#[$attr:meta])*
        $name:ident { $($variant:ident = $wire:tt,)+ }
    )*) => {$(
        $(#[$attr])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize,
            utoipa::ToSchema,
        )]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every value, in the order the contract lists them.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The value as sent.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }
    )*};
}

// The roles, overrides, permissions and levels are the views' own enums,
// converted from the domain's (one component each).
pub use crate::views::assets::AssetLevel;
pub use crate::views::estates::{EstateRole, SiteOverride, SiteRole};
pub use crate::views::shares::AssetPermission;

wire_enum! {
    /// The event types a webhook endpoint can ask for (those of the changes
    /// feed); an endpoint naming none gets every one.
    WebhookEvent {
        AssetCreated = "asset.created",
        AssetDeleted = "asset.deleted",
        AssetMoved = "asset.moved",
        CollaboratorAdded = "collaborator.added",
        CollaboratorRemoved = "collaborator.removed",
        EstateCreated = "estate.created",
        EstateDeleted = "estate.deleted",
        EstateOwnershipTransferred = "estate.ownership_transferred",
        EstateRenamed = "estate.renamed",
        HouseholdMemberAdded = "household.member_added",
        HouseholdMemberLeft = "household.member_left",
        HouseholdMemberRemoved = "household.member_removed",
        HouseholdRoleChanged = "household.role_changed",
        InvitationAccepted = "invitation.accepted",
        InvitationCancelled = "invitation.cancelled",
        InvitationCreated = "invitation.created",
        InvitationDeclined = "invitation.declined",
        InvitationExpired = "invitation.expired",
        InvitationResent = "invitation.resent",
        MemberAdded = "member.added",
        MemberLeft = "member.left",
        MemberRemoved = "member.removed",
        MemberUpdated = "member.updated",
        ShareDropped = "share.dropped",
        ShareExpired = "share.expired",
        ShareRevoked = "share.revoked",
        ShareUpdated = "share.updated",
        SiteCreated = "site.created",
        SiteDeleted = "site.deleted",
        SiteRenamed = "site.renamed",
        SiteOverrideCleared = "site_override.cleared",
        SiteOverrideSet = "site_override.set",
        UserUnverifiedGrantsRevoked = "user.unverified_grants_revoked",
    }
    /// Whose changes a webhook endpoint receives.
    WebhookScope {
        Estate = "estate",
        User = "user",
    }
    /// Where a webhook delivery stands.
    WebhookDeliveryStatus {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
    }
}

wire_enum! {
    /// An invitation's status (a pending invitation past its expiry reads as
    /// `expired`).
    InvitationStatus {
        Pending = "pending",
        Accepted = "accepted",
        Declined = "declined",
        Expired = "expired",
        Cancelled = "cancelled",
    }
    /// What gives me access, in my access list: a role in an estate, an
    /// override at a site, a collaboration, a household membership (its
    /// head's assets) or a share.
    AccessGrantKind {
        EstateRole = "estate_role",
        SiteOverride = "site_override",
        Collaborator = "collaborator",
        Household = "household",
        Share = "share",
    }
    /// What a grant in my access list is on.
    GrantResourceType { Estate = "estate", Site = "site", Asset = "asset", Household = "household", }
    /// How the invitee answered.
    InvitationAnswer { Accepted = "accepted", Declined = "declined", }
    /// What an invitation opens.
    InvitationResourceType { Estate = "estate", Asset = "asset", }
    /// How an estate invitation was answered at once: `granted` to a
    /// registered user, or `invited` by email.
    InviteOutcomeKind { Granted = "granted", Invited = "invited", }
    /// The order of the invitation table: a key, descending with a leading `-`.
    InvitationSort {
        InvitedAt = "invited_at",
        InvitedAtDescending = "-invited_at",
        ExpiresAt = "expires_at",
        ExpiresAtDescending = "-expires_at",
        Email = "email",
        EmailDescending = "-email",
    }
    /// The format of an export: a CSV table (`text/csv`) or a JSON document.
    ExportFormat { Csv = "csv", Json = "json", }
    /// What an explanation is about.
    ExplainedResourceType { Estate = "estate", Site = "site", Asset = "asset", }
    /// A way to reach a resource: `root`, `collaborator`, `household`,
    /// `share`, `site`, `estate_admin` (assets); `root`, `membership`,
    /// `invitation` (estates); `root`, `estate_role`, `site_override`,
    /// `invitation` (sites).
    AccessPathKind {
        Root = "root",
        Collaborator = "collaborator",
        Household = "household",
        Share = "share",
        Site = "site",
        EstateAdmin = "estate_admin",
        Membership = "membership",
        EstateRole = "estate_role",
        SiteOverride = "site_override",
        Invitation = "invitation",
    }
    /// Why a path does not count (or is capped).
    NotCountedReason {
        HeadNotCollaborator = "head_not_collaborator",
        ShareExpired = "share_expired",
        ShareRevoked = "share_revoked",
        NoEstateMembership = "no_estate_membership",
        CappedByEstateRole = "capped_by_estate_role",
        KeptOffSite = "kept_off_site",
        InvitationPending = "invitation_pending",
    }
    /// Something a level or role allows: on an asset, on an estate, or at a
    /// site (`*_site*`).
    Capability {
        Read = "read",
        UpdateDetails = "update_details",
        AddEditRecords = "add_edit_records",
        AddPhotos = "add_photos",
        DeleteRecordsAndPhotos = "delete_records_and_photos",
        DeleteAsset = "delete_asset",
        ManageCollaborators = "manage_collaborators",
        ManageInvitations = "manage_invitations",
        ManageShares = "manage_shares",
        MoveAsset = "move_asset",
        EditContent = "edit_content",
        ManageEstate = "manage_estate",
        ManageMembers = "manage_members",
        DeleteEstate = "delete_estate",
        TransferOwnership = "transfer_ownership",
        ReadSite = "read_site",
        EditSiteContent = "edit_site_content",
        ManageSiteMembers = "manage_site_members",
    }
    /// The kinds of resource the audit trail filters by.
    AuditResourceType {
        User = "user",
        Household = "household",
        Estate = "estate",
        Site = "site",
        Asset = "asset",
    }
    /// What an audit event is about (`database`: the seed marker).
    AuditTargetType {
        User = "user",
        Household = "household",
        Estate = "estate",
        Site = "site",
        Asset = "asset",
        Database = "database",
    }
    /// What happened, as `resource.verb` (`seed.world`: the seed marker).
    AuditAction {
        AssetCreated = "asset.created",
        AssetDeleted = "asset.deleted",
        AssetMoved = "asset.moved",
        CollaboratorAdded = "collaborator.added",
        CollaboratorRemoved = "collaborator.removed",
        EstateCreated = "estate.created",
        EstateDeleted = "estate.deleted",
        EstateOwnershipTransferred = "estate.ownership_transferred",
        EstateRenamed = "estate.renamed",
        HouseholdMemberAdded = "household.member_added",
        HouseholdMemberLeft = "household.member_left",
        HouseholdMemberRemoved = "household.member_removed",
        HouseholdRoleChanged = "household.role_changed",
        InvitationAccepted = "invitation.accepted",
        InvitationCancelled = "invitation.cancelled",
        InvitationCreated = "invitation.created",
        InvitationDeclined = "invitation.declined",
        InvitationExpired = "invitation.expired",
        InvitationResent = "invitation.resent",
        MemberAdded = "member.added",
        MemberLeft = "member.left",
        MemberRemoved = "member.removed",
        MemberUpdated = "member.updated",
        ShareDropped = "share.dropped",
        ShareRevoked = "share.revoked",
        ShareUpdated = "share.updated",
        SiteCreated = "site.created",
        SiteDeleted = "site.deleted",
        SiteRenamed = "site.renamed",
        SiteOverrideCleared = "site_override.cleared",
        SiteOverrideSet = "site_override.set",
        UserClaimed = "user.claimed",
        UserEmailVerified = "user.email_verified",
        UserPasswordChanged = "user.password_changed",
        UserPasswordReset = "user.password_reset",
        UserProfileChanged = "user.profile_changed",
        UserRegistered = "user.registered",
        UserRootCreated = "user.root_created",
        UserUnverifiedGrantsRevoked = "user.unverified_grants_revoked",
        UserSessionRevoked = "user.session_revoked",
        UserRefreshTokenReused = "user.refresh_token_reused",
        UserEmailChangeRequested = "user.email_change_requested",
        UserEmailChanged = "user.email_changed",
        UserDeleted = "user.deleted",
        UserDisabled = "user.disabled",
        UserEnabled = "user.enabled",
        UserPasswordResetSent = "user.password_reset_sent",
        UserVerificationResent = "user.verification_resent",
        UserNotificationsChanged = "user.notifications_changed",
        WebhookCreated = "webhook.created",
        WebhookUpdated = "webhook.updated",
        WebhookDeleted = "webhook.deleted",
        WebhookSecretRotated = "webhook.secret_rotated",
        WebhookDisabled = "webhook.disabled",
        ShareExpired = "share.expired",
        FileUploaded = "file.uploaded",
        FileDeleted = "file.deleted",
        SeedWorld = "seed.world",
    }
    /// The kind of access token: always `Bearer`.
    TokenType { Bearer = "Bearer", }
    /// What an acknowledged account request did.
    AcknowledgementStatus { Verified = "verified", Sent = "sent", Accepted = "accepted", }
    /// An account's state, as root sees it.
    AccountState { Active = "active", Disabled = "disabled", Deleted = "deleted", }
    /// Which accounts the administrators' list keeps.
    AccountStatusFilter { Active = "active", Disabled = "disabled", Deleted = "deleted", Unverified = "unverified", Root = "root", }
}

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn null() -> Schema {
    Schema::Object(utoipa::openapi::schema::Object::with_type(Type::Null))
}

/// What an invitation offers: an estate role or an asset permission.
pub fn offered_role_schema() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(schema_ref("EstateRole"))
        .item(schema_ref("AssetPermission"))
        .description(Some("The estate role or asset permission offered"))
        .into()
}

/// What an accepted invitation gave: an estate role or an asset
/// permission; null when declined.
pub fn granted_role_schema() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(schema_ref("EstateRole"))
        .item(schema_ref("AssetPermission"))
        .item(null())
        .description(Some("The role or permission I now hold (accepted only); null when declined"))
        .into()
}

/// The level or role a path or an explanation names: an asset level, an
/// estate role, or a site role or override (they share names, hence
/// `anyOf`); null when it gives nothing.
pub fn level_or_role_schema() -> RefOr<Schema> {
    AnyOfBuilder::new()
        .item(schema_ref("AssetLevel"))
        .item(schema_ref("EstateRole"))
        .item(schema_ref("SiteOverride"))
        .item(null())
        .description(Some("An asset level (assets) or a role (estates, sites); null: none"))
        .into()
}

/// The components above that the document would otherwise miss: those
/// only query parameters name (utoipa does not collect a parameter's
/// schemas) and those only the hand-written role schemas reference.
pub(crate) fn components() -> Vec<(String, RefOr<Schema>)> {
    use utoipa::ToSchema;
    fn one<T: ToSchema>() -> (String, RefOr<Schema>) {
        (T::name().into_owned(), T::schema())
    }
    vec![
        one::<EstateRole>(),
        one::<SiteRole>(),
        one::<SiteOverride>(),
        one::<AssetPermission>(),
        one::<AssetLevel>(),
        one::<InvitationStatus>(),
        one::<InvitationSort>(),
        one::<ExportFormat>(),
        one::<ExplainedResourceType>(),
        one::<AuditResourceType>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyholder_domain as d;

    fn wire<T: Copy>(all: &[T], as_str: impl Fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().copied().map(as_str).collect()
    }

    #[test]
    fn every_set_is_the_domains() {
        assert_eq!(
            wire(InvitationStatus::ALL, InvitationStatus::as_str),
            wire(&d::InvitationState::ALL, d::InvitationState::as_str)
        );
        assert_eq!(
            wire(NotCountedReason::ALL, NotCountedReason::as_str),
            wire(&d::asset::NotCountedReason::ALL, d::asset::NotCountedReason::code)
        );
    }

    #[test]
    fn path_kinds_and_capabilities_cover_the_domains() {
        let kinds = wire(AccessPathKind::ALL, AccessPathKind::as_str);
        for k in wire(&d::asset::PathKind::ALL, d::asset::PathKind::as_str) {
            assert!(kinds.contains(&k), "{k}");
        }
        let caps = wire(Capability::ALL, Capability::as_str);
        let mut domain = wire(&d::asset::AssetCapability::ALL, d::asset::AssetCapability::as_str);
        domain.extend(wire(&d::estate::EstateCapability::ALL, d::estate::EstateCapability::as_str));
        domain.extend(wire(&d::estate::SiteCapability::ALL, d::estate::SiteCapability::as_str));
        // `read` is both an asset's and an estate's: listed once.
        let mut seen = Vec::new();
        domain.retain(|c| {
            !seen.contains(c) && {
                seen.push(*c);
                true
            }
        });
        assert_eq!(caps, domain);
    }

    /// Every action of the store (the match is exhaustive, so a new one
    /// must be listed) has the same text here, and only the seed marker is
    /// ours alone.
    macro_rules! same_actions {
        ($($v:ident),+ $(,)?) => {{
            use keyholder_store::audit::Action;
            fn ours(a: Action) -> AuditAction {
                match a {
                    $(Action::$v => AuditAction::$v,)+
                }
            }
            let all = [$(Action::$v),+];
            for a in all {
                assert_eq!(ours(a).as_str(), a.as_str());
            }
            assert_eq!(all.len() + 1, AuditAction::ALL.len());
        }};
    }

    #[test]
    fn webhook_events_are_the_feeds() {
        let ours: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(ours, keyholder_store::audit::Action::feed_actions());
    }

    #[test]
    fn audit_actions_are_the_stores() {
        same_actions!(
            AssetCreated,
            AssetDeleted,
            AssetMoved,
            CollaboratorAdded,
            CollaboratorRemoved,
            EstateCreated,
            EstateDeleted,
            EstateOwnershipTransferred,
            EstateRenamed,
            HouseholdMemberAdded,
            HouseholdMemberLeft,
            HouseholdMemberRemoved,
            HouseholdRoleChanged,
            InvitationAccepted,
            InvitationCancelled,
            InvitationCreated,
            InvitationDeclined,
            InvitationExpired,
            InvitationResent,
            MemberAdded,
            MemberLeft,
            MemberRemoved,
            MemberUpdated,
            ShareDropped,
            ShareRevoked,
            ShareUpdated,
            SiteCreated,
            SiteDeleted,
            SiteRenamed,
            SiteOverrideCleared,
            SiteOverrideSet,
            UserClaimed,
            UserEmailVerified,
            UserPasswordChanged,
            UserPasswordReset,
            UserProfileChanged,
            UserRegistered,
            UserRootCreated,
            UserUnverifiedGrantsRevoked,
            UserSessionRevoked,
            UserRefreshTokenReused,
            UserEmailChangeRequested,
            UserEmailChanged,
            UserDeleted,
            UserDisabled,
            UserEnabled,
            UserPasswordResetSent,
            UserVerificationResent,
            UserNotificationsChanged,
            WebhookCreated,
            WebhookUpdated,
            WebhookDeleted,
            WebhookSecretRotated,
            WebhookDisabled,
            ShareExpired,
            FileUploaded,
            FileDeleted,
        );
        assert_eq!(AuditAction::SeedWorld.as_str(), "seed.world");
    }
}
