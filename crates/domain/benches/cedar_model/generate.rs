//! Scenario generation: every single path in isolation, then random mixes
//! drawn from a deterministic generator.

use chrono::{DateTime, Duration, TimeZone, Utc};
use keyholder_domain::asset::{ShareFact, ShareStatus, SitePathFact};
use keyholder_domain::{EstateRole, HouseholdRole, InvitationPermission, SiteOverride};
use uuid::Uuid;

use super::Scenario;

/// SplitMix64: small, deterministic, no dependency on a rand version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n small; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % n as u64).expect("n fits usize")
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// A fixed, millisecond aligned "now".
pub fn base_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().expect("valid date")
        + Duration::milliseconds(250)
}

/// Access expiries around `now`: never, long past, just past (1 ms), exactly
/// now (expired: `now >= at`), just ahead (1 ms), far ahead.
pub fn expiries(now: DateTime<Utc>) -> [Option<DateTime<Utc>>; 6] {
    [
        None,
        Some(now - Duration::days(3)),
        Some(now - Duration::milliseconds(1)),
        Some(now),
        Some(now + Duration::milliseconds(1)),
        Some(now + Duration::days(30)),
    ]
}

const SHARE_STATUSES: [ShareStatus; 3] =
    [ShareStatus::Active, ShareStatus::Revoked, ShareStatus::InvitationPending];

/// The ids every generated scenario uses: the user asking, the asset, the
/// site and estate the asset may be placed in, and other people (possible
/// collaborators and household heads).
struct Cast {
    user: Uuid,
    asset: Uuid,
    site_id: Uuid,
    estate_id: Uuid,
    people: Vec<Uuid>,
}

impl Cast {
    /// The same ids for every seed.
    fn new() -> Self {
        Self {
            user: Uuid::from_u128(0x1000),
            asset: Uuid::from_u128(0x2000),
            site_id: Uuid::from_u128(0x3000),
            estate_id: Uuid::from_u128(0x4000),
            people: (1..=5).map(|i| Uuid::from_u128(0x5000 + i)).collect(),
        }
    }

    /// The asset placed at the site, with the user's estate role and
    /// override there.
    const fn site(
        &self,
        estate_role: Option<EstateRole>,
        site_override: Option<SiteOverride>,
    ) -> SitePathFact {
        SitePathFact {
            site_id: self.site_id,
            estate_id: self.estate_id,
            estate_role,
            site_override,
        }
    }
}

/// The user's share on the asset (the same id in every scenario).
const fn share_fact(
    permission: InvitationPermission,
    access_expires_at: Option<DateTime<Utc>>,
    status: ShareStatus,
) -> ShareFact {
    ShareFact { id: Uuid::from_u128(0x6000), permission, access_expires_at, status }
}

/// `None` (not set), then every value of `all`.
fn none_then_each<T: Copy, const N: usize>(all: [T; N]) -> Vec<Option<T>> {
    std::iter::once(None).chain(all.map(Some)).collect()
}

/// Every single path in isolation, every value of it, then `random` mixed
/// scenarios (several paths at once, possibly several households).
pub fn scenarios(seed: u64, random: usize) -> Vec<Scenario> {
    let cast = Cast::new();
    let mut out = single_paths(&cast, base_now());
    let mut rng = Rng::new(seed);
    out.extend((0..random).map(|_| random_scenario(&mut rng, &cast)));
    out
}

/// No path, root, collaborator, then each household role (head collaborating
/// or not), each share (permission, status, expiry) and each site (estate
/// role or none, override or none), one path at a time.
fn single_paths(cast: &Cast, now: DateTime<Utc>) -> Vec<Scenario> {
    let (user, people) = (cast.user, &cast.people);
    let empty = Scenario::empty(user, cast.asset, now);
    let mut out = vec![
        empty.clone(),
        Scenario { is_root: true, ..empty.clone() },
        Scenario { collaborators: vec![people[0], user], ..empty.clone() },
    ];
    for role in HouseholdRole::ALL {
        for head_collaborates in [false, true] {
            out.push(Scenario {
                collaborators: if head_collaborates { vec![people[0]] } else { vec![people[1]] },
                households: vec![(people[0], role)],
                ..empty.clone()
            });
        }
    }
    for permission in InvitationPermission::ALL {
        for status in SHARE_STATUSES {
            for at in expiries(now) {
                out.push(Scenario {
                    share: Some(share_fact(permission, at, status)),
                    ..empty.clone()
                });
            }
        }
    }
    for estate_role in none_then_each(EstateRole::ALL) {
        for site_override in none_then_each(SiteOverride::ALL) {
            out.push(Scenario {
                site: Some(cast.site(estate_role, site_override)),
                ..empty.clone()
            });
        }
    }
    out
}

/// Several paths at once, possibly several households, at a random time
/// within 10 s of [`base_now`]. The draws come in a fixed order, so a seed
/// always gives the same scenarios.
fn random_scenario(rng: &mut Rng, cast: &Cast) -> Scenario {
    let now = base_now() + Duration::milliseconds(i64::try_from(rng.below(10_000)).expect("small"));
    let mut collaborators: Vec<Uuid> =
        cast.people.iter().copied().filter(|_| rng.chance(40)).collect();
    if rng.chance(15) {
        collaborators.push(cast.user);
    }
    let mut heads = cast.people.clone();
    let mut households = Vec::new();
    for _ in 0..rng.below(4) {
        let head = heads.swap_remove(rng.below(heads.len()));
        households.push((head, rng.pick(&HouseholdRole::ALL)));
    }
    let share = rng.chance(45).then(|| {
        let permission = rng.pick(&InvitationPermission::ALL);
        let at = rng.pick(&expiries(now));
        let status = if rng.chance(70) { ShareStatus::Active } else { rng.pick(&SHARE_STATUSES) };
        share_fact(permission, at, status)
    });
    let site = rng.chance(60).then(|| {
        let estate_role = rng.pick(&none_then_each(EstateRole::ALL));
        let site_override = rng.pick(&none_then_each(SiteOverride::ALL));
        cast.site(estate_role, site_override)
    });
    Scenario {
        user: cast.user,
        asset: cast.asset,
        is_root: rng.chance(5),
        collaborators,
        households,
        share,
        site,
        now,
    }
}
