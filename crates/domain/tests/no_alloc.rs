//! The check path of the asset resolver allocates nothing, whatever the
//! number of paths; the explain path may.
#![allow(unsafe_code)] // a counting allocator needs `unsafe impl GlobalAlloc`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, TimeZone, Utc};
use keyholder_domain::asset::{
    AccessFacts, HouseholdFact, ShareFact, SitePathFact, effective_level, explain,
};
use keyholder_domain::{EstateRole, HouseholdRole, InvitationPermission, SiteOverride};
use uuid::Uuid;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn effective_level_does_not_allocate_but_explain_may() {
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
    let households: Vec<HouseholdFact> = (0..50_u128)
        .map(|i| HouseholdFact {
            head_id: Some(Uuid::from_u128(i)),
            role: HouseholdRole::Editor,
            head_is_collaborator: i % 2 == 0,
        })
        .collect();
    let shares: Vec<ShareFact> = (0..30_u128)
        .map(|i| {
            ShareFact::active(
                Uuid::from_u128(100 + i),
                InvitationPermission::View,
                Some(now + Duration::days(1)),
            )
        })
        .collect();
    let facts = AccessFacts {
        is_root: false,
        is_collaborator: false,
        households: &households,
        shares: &shares,
        site: Some(SitePathFact {
            site_id: Uuid::from_u128(7),
            estate_id: Uuid::from_u128(8),
            estate_role: Some(EstateRole::Editor),
            site_override: Some(SiteOverride::Viewer),
        }),
        now,
    };
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let level = effective_level(&facts);
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "effective_level allocated");
    let explained = explain(&facts);
    assert_eq!(explained.effective, level);
    assert!(ALLOCATIONS.load(Ordering::SeqCst) > after, "explain builds its list of paths");
}
