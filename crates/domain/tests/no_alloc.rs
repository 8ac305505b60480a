//! The check path of the asset resolver allocates nothing, whatever the
//! number of paths; the explain path may.
#![allow(unsafe_code)] // a counting allocator needs `unsafe impl GlobalAlloc`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{TimeZone, Utc};
use keyholder_domain::asset::{effective_level, explain};

mod support;

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
    let mix = support::mixed_facts(now, 50, 30);
    let facts = mix.facts();
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let level = effective_level(&facts);
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "effective_level allocated");
    let explained = explain(&facts);
    assert_eq!(explained.effective, level);
    assert!(ALLOCATIONS.load(Ordering::SeqCst) > after, "explain builds its list of paths");
}
