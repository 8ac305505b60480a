//! The audit trail: every change of access writes an event inside the
//! transaction of the change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::id::DbId;
use crate::paging::{Bind, COUNT_LIMIT, Page, ReachPage, Sql, Window, count_per_row};
use crate::schema::{audit_events, users};
use crate::time::{from_db, to_db};

/// Every kind of audit event: what the use cases write and what the trail
/// and the access checks read back, spelled once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
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
}

impl Action {
    /// Every action.
    pub const ALL: [Self; 57] = [
        Self::AssetCreated,
        Self::AssetDeleted,
        Self::AssetMoved,
        Self::CollaboratorAdded,
        Self::CollaboratorRemoved,
        Self::EstateCreated,
        Self::EstateDeleted,
        Self::EstateOwnershipTransferred,
        Self::EstateRenamed,
        Self::HouseholdMemberAdded,
        Self::HouseholdMemberLeft,
        Self::HouseholdMemberRemoved,
        Self::HouseholdRoleChanged,
        Self::InvitationAccepted,
        Self::InvitationCancelled,
        Self::InvitationCreated,
        Self::InvitationDeclined,
        Self::InvitationExpired,
        Self::InvitationResent,
        Self::MemberAdded,
        Self::MemberLeft,
        Self::MemberRemoved,
        Self::MemberUpdated,
        Self::ShareDropped,
        Self::ShareRevoked,
        Self::ShareUpdated,
        Self::SiteCreated,
        Self::SiteDeleted,
        Self::SiteRenamed,
        Self::SiteOverrideCleared,
        Self::SiteOverrideSet,
        Self::UserClaimed,
        Self::UserEmailVerified,
        Self::UserPasswordChanged,
        Self::UserPasswordReset,
        Self::UserProfileChanged,
        Self::UserRegistered,
        Self::UserRootCreated,
        Self::UserUnverifiedGrantsRevoked,
        Self::UserSessionRevoked,
        Self::UserRefreshTokenReused,
        Self::UserEmailChangeRequested,
        Self::UserEmailChanged,
        Self::UserDeleted,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::UserPasswordResetSent,
        Self::UserVerificationResent,
        Self::UserNotificationsChanged,
        Self::WebhookCreated,
        Self::WebhookUpdated,
        Self::WebhookDeleted,
        Self::WebhookSecretRotated,
        Self::WebhookDisabled,
        Self::ShareExpired,
        Self::FileUploaded,
        Self::FileDeleted,
    ];
}

impl Action {
    /// The dotted verb stored and shown, e.g. `user.registered`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AssetCreated => "asset.created",
            Self::AssetDeleted => "asset.deleted",
            Self::AssetMoved => "asset.moved",
            Self::CollaboratorAdded => "collaborator.added",
            Self::CollaboratorRemoved => "collaborator.removed",
            Self::EstateCreated => "estate.created",
            Self::EstateDeleted => "estate.deleted",
            Self::EstateOwnershipTransferred => "estate.ownership_transferred",
            Self::EstateRenamed => "estate.renamed",
            Self::HouseholdMemberAdded => "household.member_added",
            Self::HouseholdMemberLeft => "household.member_left",
            Self::HouseholdMemberRemoved => "household.member_removed",
            Self::HouseholdRoleChanged => "household.role_changed",
            Self::InvitationAccepted => "invitation.accepted",
            Self::InvitationCancelled => "invitation.cancelled",
            Self::InvitationCreated => "invitation.created",
            Self::InvitationDeclined => "invitation.declined",
            Self::InvitationExpired => "invitation.expired",
            Self::InvitationResent => "invitation.resent",
            Self::MemberAdded => "member.added",
            Self::MemberLeft => "member.left",
            Self::MemberRemoved => "member.removed",
            Self::MemberUpdated => "member.updated",
            Self::ShareDropped => "share.dropped",
            Self::ShareRevoked => "share.revoked",
            Self::ShareUpdated => "share.updated",
            Self::SiteCreated => "site.created",
            Self::SiteDeleted => "site.deleted",
            Self::SiteRenamed => "site.renamed",
            Self::SiteOverrideCleared => "site_override.cleared",
            Self::SiteOverrideSet => "site_override.set",
            Self::UserClaimed => "user.claimed",
            Self::UserEmailVerified => "user.email_verified",
            Self::UserPasswordChanged => "user.password_changed",
            Self::UserPasswordReset => "user.password_reset",
            Self::UserProfileChanged => "user.profile_changed",
            Self::UserRegistered => "user.registered",
            Self::UserRootCreated => "user.root_created",
            Self::UserUnverifiedGrantsRevoked => "user.unverified_grants_revoked",
            Self::UserSessionRevoked => "user.session_revoked",
            Self::UserRefreshTokenReused => "user.refresh_token_reused",
            Self::UserEmailChangeRequested => "user.email_change_requested",
            Self::UserEmailChanged => "user.email_changed",
            Self::UserDeleted => "user.deleted",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::UserPasswordResetSent => "user.password_reset_sent",
            Self::UserVerificationResent => "user.verification_resent",
            Self::UserNotificationsChanged => "user.notifications_changed",
            Self::WebhookCreated => "webhook.created",
            Self::WebhookUpdated => "webhook.updated",
            Self::WebhookDeleted => "webhook.deleted",
            Self::WebhookSecretRotated => "webhook.secret_rotated",
            Self::WebhookDisabled => "webhook.disabled",
            Self::ShareExpired => "share.expired",
            Self::FileUploaded => "file.uploaded",
            Self::FileDeleted => "file.deleted",
        }
    }
}

impl Action {
    /// Whether the event changes who can reach what (or the resources
    /// access is granted on), and so goes in the changes feed and to
    /// webhooks; account events (passwords, sessions, settings) do not.
    pub const fn in_feed(self) -> bool {
        matches!(
            self,
            Self::AssetCreated
                | Self::AssetDeleted
                | Self::AssetMoved
                | Self::CollaboratorAdded
                | Self::CollaboratorRemoved
                | Self::EstateCreated
                | Self::EstateDeleted
                | Self::EstateOwnershipTransferred
                | Self::EstateRenamed
                | Self::HouseholdMemberAdded
                | Self::HouseholdMemberLeft
                | Self::HouseholdMemberRemoved
                | Self::HouseholdRoleChanged
                | Self::InvitationAccepted
                | Self::InvitationCancelled
                | Self::InvitationCreated
                | Self::InvitationDeclined
                | Self::InvitationExpired
                | Self::InvitationResent
                | Self::MemberAdded
                | Self::MemberLeft
                | Self::MemberRemoved
                | Self::MemberUpdated
                | Self::ShareDropped
                | Self::ShareExpired
                | Self::ShareRevoked
                | Self::ShareUpdated
                | Self::SiteCreated
                | Self::SiteDeleted
                | Self::SiteRenamed
                | Self::SiteOverrideCleared
                | Self::SiteOverrideSet
                | Self::UserUnverifiedGrantsRevoked
        )
    }

    /// The verbs of the events in the feed, sorted.
    pub fn feed_actions() -> Vec<&'static str> {
        let mut verbs: Vec<&str> =
            Self::ALL.iter().filter(|a| a.in_feed()).map(|a| a.as_str()).collect();
        verbs.sort_unstable();
        verbs
    }
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewAuditEvent<'a> {
    pub actor_id: Option<Uuid>,
    pub action: Action,
    pub target_type: &'a str,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// Writes `event` with the caller's connection, so it commits or rolls back
/// with the change it describes.
pub fn record(conn: &mut Conn, event: &NewAuditEvent<'_>, now: DateTime<Utc>) -> Result<Uuid> {
    let id = Uuid::new_v4();
    let subject = event.action.in_feed().then(|| subject_of(event)).flatten();
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(DbId(id)),
            audit_events::actor_id.eq(event.actor_id.map(DbId)),
            audit_events::action.eq(event.action.as_str()),
            audit_events::target_type.eq(event.target_type),
            audit_events::target_id.eq(&event.target_id),
            audit_events::before.eq(event.before.as_ref().map(ToString::to_string)),
            audit_events::after.eq(event.after.as_ref().map(ToString::to_string)),
            audit_events::created_at.eq(to_db(now)),
            audit_events::subject_id.eq(subject.map(DbId)),
        ))
        .execute(conn)?;
    if event.action.in_feed() {
        crate::webhooks::enqueue(conn, &occurred(id, event, subject, now))?;
    }
    Ok(id)
}

/// The event as webhooks report it: its body, and the estates and users
/// it names besides its target (a deleted site's estate, a deleted asset's
/// collaborators), whose endpoints hold it too.
fn occurred<'a>(
    id: Uuid,
    event: &'a NewAuditEvent<'_>,
    subject: Option<Uuid>,
    now: DateTime<Utc>,
) -> crate::webhooks::Occurred<'a> {
    let named = |key: &str| -> Vec<Uuid> {
        let mut found: Vec<Uuid> = [&event.before, &event.after]
            .into_iter()
            .flatten()
            .filter_map(|v| v.get(key))
            .flat_map(|v| match v {
                serde_json::Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            })
            .filter_map(|v| v.as_str()?.parse().ok())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    };
    crate::webhooks::Occurred {
        event_id: id,
        action: event.action.as_str(),
        target_type: event.target_type,
        target_id: &event.target_id,
        subject_id: subject,
        named_estates: named("estate_id"),
        named_collaborators: named("collaborators"),
        payload: serde_json::json!({
            "id": id,
            "type": event.action.as_str(),
            "occurred_at": now,
            "actor_id": event.actor_id,
            "target": {"type": event.target_type, "id": event.target_id},
            "subject_id": subject,
            "before": event.before,
            "after": event.after,
        }),
        at: now,
    }
}

/// The user whose access an event changes: the `user_id` its `after` (or
/// else its `before`) names, as every grant's event does.
fn subject_of(event: &NewAuditEvent<'_>) -> Option<Uuid> {
    [&event.after, &event.before]
        .into_iter()
        .flatten()
        .find_map(|v| v.get("user_id")?.as_str()?.parse().ok())
}

/// The events a user acted in or that are about their account, newest
/// first, with the actors' names (up to `limit`): what an export holds.
pub fn events_of_user(conn: &mut Conn, user_id: Uuid, limit: i64) -> Result<Vec<ListedEvent>> {
    let me = DbId(user_id);
    let about_me =
        audit_events::target_type.eq("user").and(audit_events::target_id.eq(user_id.to_string()));
    type Names = (Option<String>, Option<String>, Option<chrono::NaiveDateTime>);
    let rows: Vec<(EventRow, Names)> = audit_events::table
        .left_join(users::table.on(users::id.nullable().eq(audit_events::actor_id)))
        .filter(audit_events::actor_id.eq(me).or(about_me))
        .select((
            EventRow::as_select(),
            (
                users::username.nullable(),
                users::display_name.nullable(),
                users::deleted_at.nullable(),
            ),
        ))
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .load(conn)?;
    rows.into_iter()
        .map(|(e, (username, display_name, deleted_at))| {
            let deleted = deleted_at.is_some();
            Ok(ListedEvent {
                event: e.into_event()?,
                actor_username: username.filter(|_| !deleted),
                actor_display_name: display_name.filter(|_| !deleted),
                actor_deleted: deleted,
            })
        })
        .collect()
}

/// An audit event's row.
#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = audit_events)]
pub(crate) struct EventRow {
    id: DbId,
    actor_id: Option<DbId>,
    action: String,
    target_type: String,
    target_id: String,
    before: Option<String>,
    after: Option<String>,
    created_at: chrono::NaiveDateTime,
}

impl EventRow {
    pub(crate) fn into_event(self) -> Result<AuditEvent> {
        Ok(AuditEvent {
            id: self.id.0,
            actor_id: self.actor_id.map(|a| a.0),
            action: self.action,
            target_type: self.target_type,
            target_id: self.target_id,
            before: parse_json(self.before)?,
            after: parse_json(self.after)?,
            created_at: from_db(self.created_at),
        })
    }
}

fn parse_json(s: Option<String>) -> Result<Option<serde_json::Value>> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string()))).transpose()
}

/// Events about one target, oldest first.
pub fn for_target(conn: &mut Conn, target_type: &str, target_id: &str) -> Result<Vec<AuditEvent>> {
    audit_events::table
        .filter(audit_events::target_type.eq(target_type))
        .filter(audit_events::target_id.eq(target_id))
        .order((audit_events::created_at.asc(), audit_events::id.asc()))
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}

/// Filters of the audit listing.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub actor_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// An event with its actor's names (when the actor still exists).
#[derive(Debug, Clone, PartialEq)]
pub struct ListedEvent {
    pub event: AuditEvent,
    pub actor_username: Option<String>,
    pub actor_display_name: Option<String>,
    /// Whether the actor's account was deleted (its names are gone).
    pub actor_deleted: bool,
}

#[derive(diesel::QueryableByName)]
struct ListedRow {
    #[diesel(embed)]
    event: EventRow,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    actor_username: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    actor_display_name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    actor_deleted: bool,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
}

/// The resources a user administers, as audit targets `(t, id)`: their own
/// account and household; estates where they are admin or owner; sites
/// where they are effective site admin (estate admin or owner, or editor
/// with an admin override there); assets where they have full access
/// (collaborator, or estate admin or owner), and deleted assets whose
/// collaborator (or deleter) they were, kept in `asset_history_readers`.
/// Mirrors the domain's "administers", from the user's memberships through
/// indexes.
pub(crate) fn targets_sql(uid: &str, pg: bool) -> String {
    // PostgreSQL: a probe of the sites index per membership (a join could
    // hash the whole table).
    let sites = if pg {
        "estate_members m CROSS JOIN LATERAL (
             SELECT s.id FROM sites s WHERE s.estate_id = m.estate_id OFFSET 0) s"
    } else {
        "estate_members m JOIN sites s ON s.estate_id = m.estate_id"
    };
    let (lifted, admin_override) = crate::predicates::site_admin_by_override("m.role", "o.role");
    format!(
        "managed AS ({managed}),
         targets AS (
           SELECT 'user' AS t, {uid} AS id
           UNION ALL SELECT 'household', {uid}
           UNION ALL SELECT 'estate', m.estate_id FROM estate_members m
             WHERE m.user_id = {uid} AND {administers}
           UNION ALL SELECT 'site', s.id FROM {sites}
             WHERE m.user_id = {uid}
               AND ({administers}
                    OR ({lifted} AND EXISTS (
                          SELECT 1 FROM site_overrides o
                          WHERE o.site_id = s.id AND o.user_id = {uid} AND {admin_override})))
           UNION ALL SELECT 'asset', id FROM managed
           UNION ALL SELECT 'asset', r.asset_id FROM asset_history_readers r
             WHERE r.user_id = {uid})",
        managed = crate::invitations::managed_assets_sql(uid),
        administers = crate::predicates::administers("m.role"),
        lifted = lifted,
        admin_override = admin_override,
    )
}

/// A page of the audit trail the viewer may read (see [`targets_sql`]),
/// newest first (then by id), with the total counted up to
/// [`COUNT_LIMIT`].
///
/// A user's page starts from the resources they administer: for each, the
/// newest event after the keyset position through the target index; the
/// targets whose newest events come first hold the whole page, which is
/// then read from them alone. Root reads the trail in order.
pub fn list(
    conn: &mut Conn,
    viewer: Uuid,
    is_root: bool,
    filter: &AuditFilter,
    window: &Window<DateTime<Utc>>,
) -> Result<Page<ListedEvent>> {
    let mut sql = Sql::new(conn);
    let (ctes, filters, total) = audit_scope(&mut sql, viewer, is_root, filter);
    let after = match &window.after {
        None => String::new(),
        Some((at, id)) => {
            let at = sql.param((*at).into());
            let id = sql.id(*id);
            format!(" AND (e.created_at, e.id) < ({at}, {id})")
        }
    };
    let [fetch, rows, offset] = sql.window(window);
    let order = "ORDER BY e.created_at DESC, e.id DESC";
    let page = if is_root {
        format!(
            "page AS (
               SELECT e.id, e.created_at AS k FROM audit_events e
               WHERE TRUE{filters}{after} {order} LIMIT {fetch})"
        )
    } else {
        let on =
            |t: &str| format!("e.target_type = {t}.t AND e.target_id = {t}.id{filters}{after}");
        ReachPage {
            pg: sql.pg,
            key: &|a| format!("{a}.created_at"),
            on: &on,
            reach: ("scope", "t"),
            carried: &["t", "id"],
            rows: ("audit_events", "e"),
            outer: "x",
            dir: "DESC",
            fetch: &fetch,
        }
        .sql()
    };
    let with = if ctes.is_empty() { "WITH".to_owned() } else { format!("{ctes},") };
    let query = format!(
        "{with} {page}
         SELECT e.id, e.actor_id, e.action, e.target_type, e.target_id, e.before, e.after,
                e.created_at,
                CASE WHEN u.deleted_at IS NULL THEN u.username END AS actor_username,
                CASE WHEN u.deleted_at IS NULL THEN u.display_name END AS actor_display_name,
                (u.deleted_at IS NOT NULL) AS actor_deleted,
                ({total}) AS total
         FROM page p
         JOIN audit_events e ON e.id = p.id
         LEFT JOIN users u ON u.id = e.actor_id
         ORDER BY p.k DESC, p.id DESC
         LIMIT {rows} OFFSET {offset}"
    );
    let rows: Vec<ListedRow> = sql.load(conn, &query)?;
    let counted = match rows.first() {
        Some(r) => r.total,
        // Past the end (or nothing at all): the total on its own.
        None => audit_total(conn, viewer, is_root, filter)?,
    };
    let items = rows.into_iter().map(ListedRow::into_event).collect::<Result<Vec<_>>>()?;
    Ok(Page::cut(items, window.limit, counted))
}

/// The trail's total when the page holds no row to carry it.
fn audit_total(conn: &mut Conn, viewer: Uuid, is_root: bool, filter: &AuditFilter) -> Result<i64> {
    let mut sql = Sql::new(conn);
    let (ctes, _, total) = audit_scope(&mut sql, viewer, is_root, filter);
    let with = if ctes.is_empty() { String::new() } else { format!("{ctes} ") };
    sql.count(conn, &format!("{with}SELECT ({total}) AS n"))
}

impl ListedRow {
    fn into_event(self) -> Result<ListedEvent> {
        Ok(ListedEvent {
            event: self.event.into_event()?,
            actor_username: self.actor_username,
            actor_display_name: self.actor_display_name,
            actor_deleted: self.actor_deleted,
        })
    }
}

/// The audit list's scope: the CTEs a user's queries start from (`WITH
/// managed, targets`; none for root), the filters on an event `e`, and the
/// total (up to [`COUNT_LIMIT`]) as a scalar subquery.
fn audit_scope(
    sql: &mut Sql,
    viewer: Uuid,
    is_root: bool,
    filter: &AuditFilter,
) -> (String, String, String) {
    let mut filters = String::new();
    let mut target = String::new();
    let column = |is_root: bool, name: &str| {
        if is_root {
            format!("e.target_{name}")
        } else {
            format!("t.{}", if name == "type" { "t" } else { "id" })
        }
    };
    if let Some(t) = &filter.resource_type {
        let p = sql.text(t.clone());
        target.push_str(&format!(" AND {} = {p}", column(is_root, "type")));
    }
    if let Some(id) = &filter.resource_id {
        let p = sql.text(id.clone());
        target.push_str(&format!(" AND {} = {p}", column(is_root, "id")));
    }
    if let Some(actor) = filter.actor_id {
        let p = sql.id(actor);
        filters.push_str(&format!(" AND e.actor_id = {p}"));
    }
    if let Some(from) = filter.from {
        let p = sql.param(from.into());
        filters.push_str(&format!(" AND e.created_at >= {p}"));
    }
    if let Some(to) = filter.to {
        let p = sql.param(to.into());
        filters.push_str(&format!(" AND e.created_at <= {p}"));
    }
    let cap = sql.param(Bind::Int(COUNT_LIMIT));
    if is_root {
        let filters = format!("{target}{filters}");
        let total = format!(
            "SELECT COUNT(*) FROM (SELECT 1 AS one FROM audit_events e WHERE TRUE{filters} LIMIT {cap}) n"
        );
        return (String::new(), filters, total);
    }
    let uid = sql.id(viewer);
    let ctes = format!(
        "WITH {}, scope AS (SELECT t.t, t.id FROM targets t WHERE TRUE{target})",
        targets_sql(&uid, sql.pg)
    );
    let on = format!("e.target_type = t.t AND e.target_id = t.id{filters}");
    let total = count_per_row(sql.pg, "scope t", "audit_events e", &on, &cap);
    (ctes, filters, total)
}

/// Whether the trail records that `user_id`'s share on `asset_id` was
/// revoked or dropped (for explaining a path that no longer counts).
pub fn share_was_revoked(conn: &mut Conn, asset_id: Uuid, user_id: Uuid) -> Result<bool> {
    let befores: Vec<Option<String>> = audit_events::table
        .filter(audit_events::target_type.eq("asset"))
        .filter(audit_events::target_id.eq(asset_id.to_string().as_str()))
        .filter(
            audit_events::action
                .eq_any([Action::ShareRevoked.as_str(), Action::ShareDropped.as_str()]),
        )
        .select(audit_events::before)
        .load(conn)?;
    let user = user_id.to_string();
    Ok(befores.into_iter().flatten().any(|b| {
        serde_json::from_str::<serde_json::Value>(&b).is_ok_and(|v| v["user_id"] == user.as_str())
    }))
}
