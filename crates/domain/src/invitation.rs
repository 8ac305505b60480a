//! The invitation lifecycle (asset and estate invitations) and the merge of
//! an accepted invitation into an existing grant.
//!
//! Only `pending` moves; `accepted`, `declined`, `expired` and `cancelled` are
//! final. A pending invitation past its `expires_at` reads as `expired` at
//! once, whether or not the sweeper has written it yet. An expiry is reached
//! at its instant (`now >= expires_at`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::RefusalKind;
use crate::roles::{EstateRole, InvitationPermission, ordered_enum};
use crate::values::{Email, Expiry, ValueError, is_past};

ordered_enum!(
    /// The state of an invitation (declared in lifecycle order: `pending`
    /// first, then the final states).
    InvitationState, "pending, accepted, declined, expired, cancelled" {
        Pending => "pending",
        Accepted => "accepted",
        Declined => "declined",
        Expired => "expired",
        Cancelled => "cancelled",
    }
);

impl InvitationState {
    /// Every state but `pending` is final.
    pub const fn is_final(self) -> bool {
        !matches!(self, Self::Pending)
    }
}

ordered_enum!(
    /// What can happen to an invitation.
    InvitationEvent, "accept, decline, cancel, expire, resend" {
        Accept => "accept",
        Decline => "decline",
        Cancel => "cancel",
        Expire => "expire",
        Resend => "resend",
    }
);

/// The state an invitation reads as: a stored `pending` past its expiry is
/// `expired`.
pub fn effective_state(
    stored: InvitationState,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> InvitationState {
    if stored == InvitationState::Pending && is_past(expires_at, now) {
        InvitationState::Expired
    } else {
        stored
    }
}

/// Why an event does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionRefusal {
    /// Accepting or declining an expired invitation (410).
    #[error("the invitation has expired")]
    Expired,
    /// Any other event on a final invitation (409, with its current state).
    #[error("the invitation is {0}, not pending")]
    Final(InvitationState),
    /// An expire event before the invitation's expiry (409).
    #[error("the invitation has not expired yet")]
    NotYetExpired,
}

impl TransitionRefusal {
    pub const fn code(self) -> &'static str {
        match self {
            Self::Expired => "invitation_expired",
            Self::Final(_) => "invitation_not_pending",
            Self::NotYetExpired => "invitation_not_expired",
        }
    }

    pub const fn detail(self) -> &'static str {
        match self {
            Self::Expired => {
                "The invitation has expired and can no longer be accepted or declined; ask the sender for a new one."
            }
            Self::Final(_) => {
                "Only a pending invitation can be accepted, declined, cancelled or resent; this one is final."
            }
            Self::NotYetExpired => "The invitation has not reached its expiry.",
        }
    }

    pub const fn kind(self) -> RefusalKind {
        match self {
            Self::Expired => RefusalKind::Gone,
            Self::Final(_) | Self::NotYetExpired => RefusalKind::Conflict,
        }
    }

    /// The invitation's current state, when the refusal reports it.
    pub const fn current_state(self) -> Option<InvitationState> {
        match self {
            Self::Expired => Some(InvitationState::Expired),
            Self::Final(s) => Some(s),
            Self::NotYetExpired => Some(InvitationState::Pending),
        }
    }
}

/// Applies an event to an invitation stored as `stored`.
///
/// | event | from | to |
/// |---|---|---|
/// | accept | pending, not past expiry | accepted |
/// | decline | pending, not past expiry | declined |
/// | cancel | pending, not past expiry | cancelled |
/// | expire | pending, past expiry | expired |
/// | resend | pending, not past expiry | pending |
///
/// Accepting or declining an invitation that reads as expired is
/// [`TransitionRefusal::Expired`] (410); any other event on an invitation
/// that reads as final is [`TransitionRefusal::Final`] (409). Expire looks at
/// the stored state, so the sweeper can write a pending invitation that
/// already reads as expired.
pub fn transition(
    stored: InvitationState,
    expires_at: Option<DateTime<Utc>>,
    event: InvitationEvent,
    now: DateTime<Utc>,
) -> Result<InvitationState, TransitionRefusal> {
    let current = effective_state(stored, expires_at, now);
    match event {
        InvitationEvent::Expire => match stored {
            InvitationState::Pending if current == InvitationState::Expired => {
                Ok(InvitationState::Expired)
            }
            InvitationState::Pending => Err(TransitionRefusal::NotYetExpired),
            other => Err(TransitionRefusal::Final(other)),
        },
        InvitationEvent::Accept | InvitationEvent::Decline
            if current == InvitationState::Expired =>
        {
            Err(TransitionRefusal::Expired)
        }
        _ if current.is_final() => Err(TransitionRefusal::Final(current)),
        InvitationEvent::Accept => Ok(InvitationState::Accepted),
        InvitationEvent::Decline => Ok(InvitationState::Declined),
        InvitationEvent::Cancel => Ok(InvitationState::Cancelled),
        InvitationEvent::Resend => Ok(InvitationState::Pending),
    }
}

/// Whether `from --event--> to` is a row of the lifecycle table.
pub fn is_allowed_transition(
    from: InvitationState,
    event: InvitationEvent,
    to: InvitationState,
) -> bool {
    use InvitationEvent as E;
    use InvitationState as S;
    matches!(
        (from, event, to),
        (S::Pending, E::Accept, S::Accepted)
            | (S::Pending, E::Decline, S::Declined)
            | (S::Pending, E::Cancel, S::Cancelled)
            | (S::Pending, E::Expire, S::Expired)
            | (S::Pending, E::Resend, S::Pending)
    )
}

/// The `expires_at` a resend asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendExpiry {
    /// Field absent: keep the current expiry.
    Keep,
    /// `null`: never expires.
    Never,
    /// A new expiry, which must be in the future.
    At(DateTime<Utc>),
}

impl ResendExpiry {
    /// From a JSON field that may be absent (`None`), `null` (`Some(None)`)
    /// or a value.
    pub const fn from_field(field: Option<Option<DateTime<Utc>>>) -> Self {
        match field {
            None => Self::Keep,
            Some(None) => Self::Never,
            Some(Some(at)) => Self::At(at),
        }
    }
}

/// The expiry after a resend. (Whether the invitation may be resent at all,
/// pending and not expired, is [`transition`] with
/// [`InvitationEvent::Resend`].)
pub fn resend_expiry(
    current: Option<DateTime<Utc>>,
    requested: ResendExpiry,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ValueError> {
    match requested {
        ResendExpiry::Keep => Ok(current),
        ResendExpiry::Never => Ok(None),
        ResendExpiry::At(at) => Expiry::parse(at, now).map(|e| Some(e.at())),
    }
}

/// Why an invitation may not be sent or accepted by this user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteeRefusal {
    /// Inviting yourself (422).
    #[error("you cannot invite yourself")]
    SelfInvite,
    /// A signed-in user with another email tries to accept (403); the
    /// invitation stays pending.
    #[error("the invitation was sent to another email address")]
    EmailMismatch,
}

impl InviteeRefusal {
    pub const fn code(self) -> &'static str {
        match self {
            Self::SelfInvite => "self_invitation",
            Self::EmailMismatch => "invitation_email_mismatch",
        }
    }

    pub const fn detail(self) -> &'static str {
        match self {
            Self::SelfInvite => "You cannot send an invitation to your own email address.",
            Self::EmailMismatch => {
                "An invitation can be accepted only by the account with the invited email address."
            }
        }
    }

    pub const fn kind(self) -> RefusalKind {
        match self {
            Self::SelfInvite => RefusalKind::Invalid,
            Self::EmailMismatch => RefusalKind::Forbidden,
        }
    }
}

/// Sending an invitation: not to yourself.
pub fn check_invitee(inviter: &Email, invitee: &Email) -> Result<(), InviteeRefusal> {
    if inviter == invitee { Err(InviteeRefusal::SelfInvite) } else { Ok(()) }
}

/// Accepting: bound to the invited email (compared as parsed, so
/// case-insensitively).
pub fn check_accepting_user(invited: &Email, user_email: &Email) -> Result<(), InviteeRefusal> {
    if invited == user_email { Ok(()) } else { Err(InviteeRefusal::EmailMismatch) }
}

/// A share's grant: permission and optional access expiry (`None` = never).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareGrant {
    pub permission: InvitationPermission,
    pub access_expires_at: Option<DateTime<Utc>>,
}

/// Accepting an invitation when the user already has a share on the asset:
/// the higher permission and the later access expiry are kept (no expiry is
/// the latest).
pub fn merge_share(existing: ShareGrant, new: ShareGrant) -> ShareGrant {
    ShareGrant {
        permission: existing.permission.max(new.permission),
        access_expires_at: later_expiry(existing.access_expires_at, new.access_expires_at),
    }
}

/// The later of two optional expiries; `None` (never) is the latest.
pub fn later_expiry(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

/// Accepting an estate invitation when the user is already a member: the
/// higher role is kept.
pub fn merge_estate_role(existing: Option<EstateRole>, invited: EstateRole) -> EstateRole {
    existing.map_or(invited, |e| e.max(invited))
}

// ------------------------------------------------------------------ bulk

/// The most emails, and the most assets, one bulk invitation names.
pub const MAX_BATCH_EMAILS: usize = 50;
pub const MAX_BATCH_ASSETS: usize = 50;

/// The positions of the entries that repeat an earlier one (emails compare
/// as parsed, so case-insensitively).
pub fn repeated<T: PartialEq>(items: &[T]) -> Vec<usize> {
    (0..items.len()).filter(|&i| items[..i].contains(&items[i])).collect()
}

/// An event applied to every row a bulk invitation's token answers (the
/// rows of one recipient): the positions of the rows it moves, those that
/// read as pending. Rows cancelled, answered or expired meanwhile are
/// skipped. With none left, the refusal a single invitation would give:
/// `Expired` (410) when any row expired, else the first row's.
pub fn batch_transition(
    rows: &[(InvitationState, Option<DateTime<Utc>>)],
    event: InvitationEvent,
    now: DateTime<Utc>,
) -> Result<Vec<usize>, TransitionRefusal> {
    let mut moved = Vec::new();
    let mut refusals = Vec::new();
    for (i, (stored, expires_at)) in rows.iter().enumerate() {
        match transition(*stored, *expires_at, event, now) {
            Ok(_) => moved.push(i),
            Err(r) => refusals.push(r),
        }
    }
    if !moved.is_empty() {
        return Ok(moved);
    }
    let expired = refusals.iter().copied().find(|r| *r == TransitionRefusal::Expired);
    Err(expired
        .or_else(|| refusals.first().copied())
        .unwrap_or(TransitionRefusal::Final(InvitationState::Cancelled)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn states_parse_and_print() {
        for s in InvitationState::ALL {
            assert_eq!(s.as_str().parse::<InvitationState>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
            assert_eq!(s.is_final(), s != InvitationState::Pending);
        }
        assert_eq!(
            "Pending".parse::<InvitationState>(),
            Err(ValueError::OneOf { allowed: InvitationState::ALLOWED })
        );
    }

    #[test]
    fn pending_past_expiry_reads_expired_at_once() {
        let now = Utc::now();
        let p = InvitationState::Pending;
        assert_eq!(effective_state(p, None, now), p);
        assert_eq!(effective_state(p, Some(now + Duration::seconds(1)), now), p);
        assert_eq!(effective_state(p, Some(now), now), InvitationState::Expired);
        assert_eq!(
            effective_state(InvitationState::Accepted, Some(now - Duration::days(1)), now),
            InvitationState::Accepted
        );
    }

    #[test]
    fn resend_expiry_rules() {
        let now = Utc::now();
        let cur = Some(now + Duration::days(3));
        let later = now + Duration::days(7);
        assert_eq!(resend_expiry(cur, ResendExpiry::Keep, now), Ok(cur));
        assert_eq!(resend_expiry(cur, ResendExpiry::Never, now), Ok(None));
        assert_eq!(resend_expiry(cur, ResendExpiry::At(later), now), Ok(Some(later)));
        assert_eq!(resend_expiry(cur, ResendExpiry::At(now), now), Err(ValueError::NotInFuture));
        assert_eq!(ResendExpiry::from_field(None), ResendExpiry::Keep);
        assert_eq!(ResendExpiry::from_field(Some(None)), ResendExpiry::Never);
        assert_eq!(ResendExpiry::from_field(Some(Some(later))), ResendExpiry::At(later));
    }

    #[test]
    fn expired_invitations_are_not_resent() {
        let now = Utc::now();
        assert_eq!(
            transition(
                InvitationState::Pending,
                Some(now - Duration::minutes(1)),
                InvitationEvent::Resend,
                now
            ),
            Err(TransitionRefusal::Final(InvitationState::Expired))
        );
    }

    #[test]
    fn merges_keep_the_more_generous() {
        let now = Utc::now();
        let a = ShareGrant {
            permission: InvitationPermission::Manage,
            access_expires_at: Some(now + Duration::days(1)),
        };
        let b = ShareGrant {
            permission: InvitationPermission::View,
            access_expires_at: Some(now + Duration::days(9)),
        };
        let m = merge_share(a, b);
        assert_eq!(m.permission, InvitationPermission::Manage);
        assert_eq!(m.access_expires_at, Some(now + Duration::days(9)));
        let never = ShareGrant { permission: InvitationPermission::Edit, access_expires_at: None };
        assert_eq!(merge_share(a, never).access_expires_at, None);
        assert_eq!(merge_share(never, a).access_expires_at, None);
        assert_eq!(
            merge_estate_role(Some(EstateRole::Admin), EstateRole::Viewer),
            EstateRole::Admin
        );
        assert_eq!(
            merge_estate_role(Some(EstateRole::Viewer), EstateRole::Editor),
            EstateRole::Editor
        );
        assert_eq!(merge_estate_role(None, EstateRole::Viewer), EstateRole::Viewer);
    }

    #[test]
    fn invitee_checks() {
        let a = Email::parse("a@example.com").expect("valid");
        let a2 = Email::parse("A@Example.com").expect("valid");
        let b = Email::parse("b@example.com").expect("valid");
        assert_eq!(check_invitee(&a, &a2), Err(InviteeRefusal::SelfInvite));
        assert_eq!(check_invitee(&a, &b), Ok(()));
        assert_eq!(check_accepting_user(&a, &a2), Ok(()));
        assert_eq!(check_accepting_user(&a, &b), Err(InviteeRefusal::EmailMismatch));
    }

    #[test]
    fn repeated_names_every_later_copy() {
        let emails: Vec<Email> = ["a@x.io", "B@x.io", "A@X.io", "b@x.io", "a@x.io"]
            .iter()
            .map(|e| Email::parse(e).expect("email"))
            .collect();
        assert_eq!(repeated(&emails), vec![2, 3, 4]);
        assert!(repeated(&[1, 2, 3]).is_empty());
    }

    #[test]
    fn a_batch_token_moves_its_pending_rows_and_skips_the_others() {
        let now = Utc::now();
        let past = Some(now - chrono::Duration::minutes(1));
        let rows = [
            (InvitationState::Pending, None),
            (InvitationState::Cancelled, None),
            (InvitationState::Pending, None),
        ];
        assert_eq!(batch_transition(&rows, InvitationEvent::Accept, now), Ok(vec![0, 2]));
        assert_eq!(batch_transition(&rows, InvitationEvent::Decline, now), Ok(vec![0, 2]));
        let none = [(InvitationState::Cancelled, None), (InvitationState::Accepted, None)];
        assert_eq!(
            batch_transition(&none, InvitationEvent::Accept, now),
            Err(TransitionRefusal::Final(InvitationState::Cancelled))
        );
        let lapsed = [(InvitationState::Cancelled, None), (InvitationState::Pending, past)];
        assert_eq!(
            batch_transition(&lapsed, InvitationEvent::Accept, now),
            Err(TransitionRefusal::Expired)
        );
        assert_eq!(
            batch_transition(&[], InvitationEvent::Accept, now),
            Err(TransitionRefusal::Final(InvitationState::Cancelled))
        );
    }
}
