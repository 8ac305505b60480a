//! One named test per row of the invitation lifecycle table in
//! `shared/spec/domain.md`, and the rules listed under it.

use chrono::{DateTime, Duration, TimeZone, Utc};
use keyholder_domain::asset::{AssetCapability, asset_can};
use keyholder_domain::estate::{EstateActor, check_grant_new_member};
use keyholder_domain::invitation::{
    InviteeRefusal, ResendExpiry, check_accepting_user, check_invitee, resend_expiry,
};
use keyholder_domain::{
    AssetLevel, Email, EstateRole, InvitationEvent as E, InvitationState as S, RefusalKind,
    TransitionRefusal, effective_state, transition,
};
use uuid::Uuid;

mod support;
use support::assert_answer;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().expect("valid date")
}

fn future() -> Option<DateTime<Utc>> {
    Some(now() + Duration::days(7))
}

fn past() -> Option<DateTime<Utc>> {
    Some(now() - Duration::seconds(1))
}

const FINAL: [S; 4] = [S::Accepted, S::Declined, S::Expired, S::Cancelled];

/// `event` on a pending invitation not past its expiry (or without one)
/// moves it to `to`.
fn assert_moves_pending(event: E, to: S) {
    for exp in [None, future()] {
        assert_eq!(transition(S::Pending, exp, event, now()), Ok(to));
    }
}

#[test]
fn accept_moves_pending_not_past_expiry_to_accepted() {
    assert_moves_pending(E::Accept, S::Accepted);
    // Who: the invitee, bound to the invited email.
    let invited = Email::parse("Invitee@Example.com").expect("valid");
    let same = Email::parse("invitee@example.com").expect("valid");
    let other = Email::parse("someone@example.com").expect("valid");
    assert_eq!(check_accepting_user(&invited, &same), Ok(()));
    let err = check_accepting_user(&invited, &other).expect_err("other email");
    assert_eq!(err, InviteeRefusal::EmailMismatch);
    assert_answer(&err, "invitation_email_mismatch", RefusalKind::Forbidden, 403);
}

#[test]
fn decline_moves_pending_not_past_expiry_to_declined() {
    assert_moves_pending(E::Decline, S::Declined);
}

#[test]
fn cancel_moves_pending_to_cancelled() {
    assert_moves_pending(E::Cancel, S::Cancelled);
    // Who: full access to the asset; for an estate, who may grant that role.
    assert!(asset_can(AssetLevel::Full, AssetCapability::ManageInvitations));
    assert!(!asset_can(AssetLevel::Manage, AssetCapability::ManageInvitations));
    let admin = EstateActor::member(Uuid::new_v4(), EstateRole::Admin);
    assert!(check_grant_new_member(&admin, EstateRole::Editor).is_ok());
    assert!(check_grant_new_member(&admin, EstateRole::Admin).is_err());
}

#[test]
fn expire_moves_pending_past_expires_at_to_expired() {
    assert_eq!(transition(S::Pending, past(), E::Expire, now()), Ok(S::Expired));
    // At the instant of expiry it has expired.
    assert_eq!(transition(S::Pending, Some(now()), E::Expire, now()), Ok(S::Expired));
    // Not before, and never without an expiry.
    for exp in [None, future()] {
        assert_eq!(
            transition(S::Pending, exp, E::Expire, now()),
            Err(TransitionRefusal::NotYetExpired)
        );
    }
}

#[test]
fn resend_keeps_pending_not_past_expiry_pending() {
    assert_moves_pending(E::Resend, S::Pending);
}

#[test]
fn pending_past_expiry_reads_expired_on_every_read() {
    assert_eq!(effective_state(S::Pending, past(), now()), S::Expired);
    assert_eq!(effective_state(S::Pending, future(), now()), S::Pending);
    assert_eq!(effective_state(S::Pending, None, now()), S::Pending);
}

#[test]
fn accepting_or_declining_an_expired_invitation_answers_410() {
    for stored in [S::Pending, S::Expired] {
        for ev in [E::Accept, E::Decline] {
            let err = transition(stored, past(), ev, now()).expect_err("expired");
            assert_eq!(err, TransitionRefusal::Expired);
            assert_answer(&err, "invitation_expired", RefusalKind::Gone, 410);
        }
    }
}

#[test]
fn any_other_event_on_a_final_invitation_answers_409_with_its_status() {
    for stored in FINAL {
        for ev in E::ALL {
            let res = transition(stored, future(), ev, now());
            let err = res.expect_err("final states never move");
            if stored == S::Expired && matches!(ev, E::Accept | E::Decline) {
                assert_eq!(err, TransitionRefusal::Expired);
            } else {
                assert_eq!(err, TransitionRefusal::Final(stored));
                assert_answer(&err, "invitation_not_pending", RefusalKind::Conflict, 409);
                assert_eq!(err.current_state(), Some(stored));
            }
        }
    }
    // A pending invitation past expiry is final (expired) for cancel and resend.
    for ev in [E::Cancel, E::Resend] {
        assert_eq!(
            transition(S::Pending, past(), ev, now()),
            Err(TransitionRefusal::Final(S::Expired))
        );
    }
}

#[test]
fn resend_expiry_absent_keeps_null_means_never_value_must_be_in_the_future() {
    let cur = future();
    assert_eq!(resend_expiry(cur, ResendExpiry::Keep, now()), Ok(cur));
    assert_eq!(resend_expiry(cur, ResendExpiry::Never, now()), Ok(None));
    let later = now() + Duration::days(30);
    assert_eq!(resend_expiry(cur, ResendExpiry::At(later), now()), Ok(Some(later)));
    assert!(resend_expiry(cur, ResendExpiry::At(now()), now()).is_err());
    assert!(resend_expiry(cur, ResendExpiry::At(now() - Duration::days(1)), now()).is_err());
}

#[test]
fn inviting_yourself_answers_422() {
    let me = Email::parse("me@example.com").expect("valid");
    let err = check_invitee(&me, &Email::parse("ME@example.com").expect("valid"))
        .expect_err("self invite");
    assert_answer(&err, "self_invitation", RefusalKind::Invalid, 422);
}
