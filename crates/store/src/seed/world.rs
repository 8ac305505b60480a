//! The seeded world: every number it is derived from, and the values of
//! its rows as functions of row numbers.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::{
    EMAIL_DOMAIN, ESTATES, KNOWN, KNOWN_ACCOUNTS, OWNER20_ASSETS, OWNER50_ASSETS, SITES_PER_ESTATE,
    SeedSize, USER_ESTATE_ADMIN, USER_INVITER, USER_OWNER20, USER_OWNER50,
};

/// A stateless 64-bit mix (splitmix64 finaliser) of a row number and a salt.
pub(crate) fn h(n: u64, salt: u64) -> u64 {
    let mut z = n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(0x5EED);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `h` as a percentage, 0 to 99.
pub(crate) fn pct(n: u64, salt: u64) -> u64 {
    h(n, salt) % 100
}

pub(crate) fn pick<'a>(list: &[&'a str], n: u64, salt: u64) -> &'a str {
    list[usize::try_from(h(n, salt) % list.len() as u64).unwrap_or(0)]
}

pub(crate) fn ms(ms: u64) -> Duration {
    Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX))
}

pub(crate) fn days(d: u64) -> Duration {
    Duration::days(i64::try_from(d).unwrap_or(0))
}

/// Up to `N` user numbers, without allocating.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Few<const N: usize> {
    pub(crate) items: [u64; N],
    pub(crate) len: usize,
}

impl<const N: usize> Few<N> {
    pub(crate) fn new() -> Self {
        Self { items: [0; N], len: 0 }
    }
    pub(crate) fn push(&mut self, v: u64) {
        if self.len < N {
            self.items[self.len] = v;
            self.len += 1;
        }
    }
    pub(crate) fn as_slice(&self) -> &[u64] {
        &self.items[..self.len]
    }
    pub(crate) fn contains(&self, v: u64) -> bool {
        self.as_slice().contains(&v)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    Personal,
    Site { estate: u64, site: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvitationKind {
    /// On one of the inviter's assets.
    Inviter,
    /// On some other asset, by its first collaborator.
    OtherAsset,
    /// To an estate, by its owner.
    Estate,
}

/// Every number the world is derived from.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub(crate) users: u64,
    pub(crate) assets: u64,
    /// Users other than the known accounts (numbers 4..users).
    pub(crate) regular: u64,
    pub(crate) inviter_assets: u64,
    /// Assets from here on are the general population.
    pub(crate) general_start: u64,
    /// `[general_start, big_end)`: the big estate.
    pub(crate) big_end: u64,
    /// `[big_end, other_end)`: the 19 other estates; the rest is personal.
    pub(crate) other_end: u64,
    pub(crate) members_per_estate: u64,
    pub(crate) admins_per_estate: u64,
    pub(crate) editors_per_estate: u64,
    pub(crate) records: u64,
    pub(crate) photos: u64,
    pub(crate) audit: u64,
    pub(crate) inv_inviter: u64,
    pub(crate) inv_other: u64,
    pub(crate) inv_estate: u64,
    pub(crate) now: NaiveDateTime,
    pub(crate) origin: NaiveDateTime,
    /// Milliseconds over which assets were created.
    pub(crate) span_ms: u64,
    pub(crate) perm_mul: u64,
    /// Seconds between two sign-ups.
    pub(crate) user_gap_s: i64,
}

impl World {
    pub(crate) fn new(size: &SeedSize, now: DateTime<Utc>) -> Self {
        let assets = size.assets;
        let inviter_assets = (assets / 1000).clamp(10, 1000);
        let general_start = OWNER20_ASSETS + OWNER50_ASSETS + inviter_assets;
        let big_end = general_start + assets / 2;
        let other_end = (big_end + assets / 10).min(assets);
        let regular = size.users - KNOWN;
        let members_per_estate = regular.min(50);
        let admins_per_estate = (members_per_estate / 10).max(1);
        let editors_per_estate = (members_per_estate * 3 / 10).max(1);
        let inv_estate = size.invitations / 20;
        let inv_other = size.invitations / 20;
        let inv_inviter = size.invitations - inv_estate - inv_other;
        // Whole seconds, so every derived time is exact on both backends.
        let now = chrono::DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now).naive_utc();
        let origin = now - Duration::days(3 * 365);
        let span_ms = u64::try_from((Duration::days(3 * 365 - 2)).num_milliseconds()).unwrap_or(0);
        let perm_mul = [1_000_003_u64, 999_983, 1_299_709, 15_485_863]
            .into_iter()
            .find(|p| !assets.is_multiple_of(*p))
            .unwrap_or(1);
        Self {
            users: size.users,
            assets,
            regular,
            inviter_assets,
            general_start,
            big_end,
            other_end,
            members_per_estate,
            admins_per_estate,
            editors_per_estate,
            records: (assets / 200).max(20),
            photos: (assets / 400).max(10),
            audit: (assets / 250).max(50),
            inv_inviter,
            inv_other,
            inv_estate,
            now,
            origin,
            span_ms,
            perm_mul,
            user_gap_s: (2 * 365 * 86_400 / i64::try_from(size.users).unwrap_or(1)).clamp(1, 137),
        }
    }

    /// A regular user's number from any value.
    pub(crate) fn regular_user(&self, v: u64) -> u64 {
        KNOWN + v % self.regular
    }

    /// The next regular user after `u` (wrapping).
    pub(crate) fn next_regular(&self, u: u64) -> u64 {
        KNOWN + (u - KNOWN + 1) % self.regular
    }

    /// A regular user from `v` that is not in `avoid`.
    pub(crate) fn regular_except<const N: usize>(&self, v: u64, avoid: &Few<N>) -> u64 {
        let mut u = self.regular_user(v);
        while avoid.contains(u) {
            u = self.next_regular(u);
        }
        u
    }

    pub(crate) fn general_count(&self) -> u64 {
        self.assets - self.general_start
    }

    /// The asset's first collaborator (its creator).
    pub(crate) fn primary(&self, n: u64) -> u64 {
        if n < OWNER20_ASSETS {
            USER_OWNER20
        } else if n < OWNER20_ASSETS + OWNER50_ASSETS {
            USER_OWNER50
        } else if n < self.general_start {
            USER_INVITER
        } else {
            // The first `regular` general assets go to each regular user in
            // turn, so every regular user collaborates on something.
            let g = n - self.general_start;
            if g < self.regular { KNOWN + g } else { self.regular_user(h(n, 1)) }
        }
    }

    pub(crate) fn collaborators(&self, n: u64) -> Few<3> {
        let mut c = Few::new();
        let first = self.primary(n);
        c.push(first);
        let second = if n < OWNER20_ASSETS {
            n % 4 == 1
        } else if n < OWNER20_ASSETS + OWNER50_ASSETS {
            n % 5 == 2
        } else if n < self.general_start {
            n.is_multiple_of(3)
        } else {
            pct(n, 2) < 40
        };
        if second {
            let u = self.regular_except(h(n, 3), &c);
            c.push(u);
            if n >= self.general_start && pct(n, 4) < 38 {
                let u = self.regular_except(h(n, 5), &c);
                c.push(u);
            }
        }
        c
    }

    /// Shares: (user, permission, access expiry).
    pub(crate) fn shares(&self, n: u64) -> Few<2> {
        let collaborators = self.collaborators(n);
        let mut avoid: Few<5> = Few::new();
        for &u in collaborators.as_slice() {
            avoid.push(u);
        }
        let mut out = Few::new();
        let first = self.regular_except(h(n, 10), &avoid);
        avoid.push(first);
        out.push(first);
        if pct(n, 11) < 40 {
            out.push(self.regular_except(h(n, 12), &avoid));
        }
        out
    }

    pub(crate) fn placement(&self, n: u64) -> Placement {
        if n < self.general_start || n >= self.other_end {
            Placement::Personal
        } else if n < self.big_end {
            Placement::Site { estate: 0, site: h(n, 30) % SITES_PER_ESTATE }
        } else {
            Placement::Site {
                estate: 1 + h(n, 31) % (ESTATES - 1),
                site: h(n, 32) % SITES_PER_ESTATE,
            }
        }
    }

    pub(crate) fn asset_created(&self, n: u64) -> NaiveDateTime {
        let rank = (u128::from(n) * u128::from(self.perm_mul) + 12_345) % u128::from(self.assets);
        let offset = rank * u128::from(self.span_ms) / u128::from(self.assets);
        self.origin + ms(u64::try_from(offset).unwrap_or(0))
    }

    /// A moment between `from` and a day before now.
    pub(crate) fn between(&self, from: NaiveDateTime, v: u64) -> NaiveDateTime {
        let end = self.now - Duration::days(1);
        let span = (end - from).num_milliseconds().max(1);
        from + Duration::milliseconds(i64::try_from(v % span.unsigned_abs()).unwrap_or(0))
    }

    /// Household of regular user `u`: members (user, role) when `u` heads one.
    pub(crate) fn household(&self, u: u64) -> Few<4> {
        let mut out = Few::new();
        let r = u - KNOWN;
        // Heads are among the users guaranteed a collaborator row.
        if r >= self.regular.min(self.general_count()) || !h(u, 20).is_multiple_of(4) {
            return out;
        }
        let size = 2 + h(u, 21) % 4;
        let mut taken: Few<5> = Few::new();
        taken.push(u);
        for j in 0..size - 1 {
            let m = self.regular_except(h(u, 22 + j), &taken);
            taken.push(m);
            out.push(m);
        }
        out
    }

    /// Estate members: (user, role).
    pub(crate) fn estate_members(&self, e: u64) -> Vec<(u64, &'static str)> {
        let base = (e * 131) % self.regular;
        let mut out: Vec<(u64, &'static str)> = (0..self.members_per_estate)
            .map(|k| {
                let user = KNOWN + (base + k) % self.regular;
                (user, self.member_role(k))
            })
            .collect();
        if e == 0 {
            out.push((USER_ESTATE_ADMIN, "admin"));
        }
        out
    }

    pub(crate) fn member_role(&self, k: u64) -> &'static str {
        if k == 0 {
            "owner"
        } else if k <= self.admins_per_estate {
            "admin"
        } else if k <= self.admins_per_estate + self.editors_per_estate {
            "editor"
        } else {
            "viewer"
        }
    }

    pub(crate) fn estate_owner(&self, e: u64) -> u64 {
        KNOWN + (e * 131) % self.regular
    }

    /// Site overrides: (user, site within the estate, role).
    pub(crate) fn site_overrides(&self, e: u64) -> Vec<(u64, u64, &'static str)> {
        const ROLES: [&str; 4] = ["none", "viewer", "editor", "admin"];
        let mut out = Vec::new();
        let base = (e * 131) % self.regular;
        for k in 0..self.members_per_estate {
            if k <= self.admins_per_estate || k % 4 != 0 {
                continue;
            }
            let user = KNOWN + (base + k) % self.regular;
            for j in 0..3 {
                let site = (k * 7 + j * 31 + e) % SITES_PER_ESTATE;
                let role = ROLES[usize::try_from((k / 4 + j) % 4).unwrap_or(0)];
                out.push((user, site, role));
            }
        }
        out
    }

    pub(crate) fn invitation_kind(&self, j: u64) -> (InvitationKind, u64) {
        if j < self.inv_inviter {
            (InvitationKind::Inviter, j)
        } else if j < self.inv_inviter + self.inv_other {
            (InvitationKind::OtherAsset, j - self.inv_inviter)
        } else {
            (InvitationKind::Estate, j - self.inv_inviter - self.inv_other)
        }
    }

    pub(crate) fn total_invitations(&self) -> u64 {
        self.inv_inviter + self.inv_other + self.inv_estate
    }
}

#[rustfmt::skip]
pub(crate) const ESTATE_NAMES: [&str; 20] = [
    "Northfield", "Riverside", "Oakridge", "Harbourside", "Millbrook",
    "Westgate", "Ashdown", "Kingsmead", "Fernhill", "Stonebridge",
    "Larkspur", "Highmoor", "Brambleton", "Cedar Vale", "Elmstead",
    "Foxhollow", "Greywater", "Hollins", "Ivybank", "Juniper Fields",
];

pub(crate) const SITE_KINDS: [&str; 8] =
    ["Depot", "Yard", "Workshop", "Farm", "Warehouse", "Barn", "Garage", "Compound"];

#[rustfmt::skip]
pub(crate) const MAKES: [&str; 24] = [
    "Ford Transit", "Toyota Hilux", "VW Crafter", "Mercedes Sprinter",
    "Land Rover Defender", "Nissan Navara", "Isuzu D-Max", "Renault Master",
    "Iveco Daily", "JCB 3CX", "Kubota KX057", "John Deere 6120M",
    "Massey Ferguson 5711", "Honda EU22i Generator", "Toyota 8FG25 Forklift", "Hyster H3.0",
    "Stihl MS 462", "Husqvarna Rider 216", "Yamaha Viking", "Polaris Ranger",
    "Fiat Ducato", "Peugeot Boxer", "Skoda Octavia", "Tesla Model 3",
];

pub(crate) const COLOURS: [&str; 8] =
    ["white", "silver", "black", "blue", "red", "green", "yellow", "grey"];
pub(crate) const FUELS: [&str; 4] = ["diesel", "petrol", "electric", "hybrid"];

pub(crate) fn plate(n: u64) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNOPRSTUVWXYZ";
    let l = |salt: u64| {
        char::from(LETTERS[usize::try_from(h(n, salt) % LETTERS.len() as u64).unwrap_or(0)])
    };
    format!("{}{}{:02} {}{}{}", l(40), l(41), h(n, 42) % 100, l(43), l(44), l(45))
}

pub(crate) fn username(u: u64) -> String {
    match usize::try_from(u).ok().and_then(|i| KNOWN_ACCOUNTS.get(i)) {
        Some(name) => (*name).to_owned(),
        None => format!("seed-user-{u:05}"),
    }
}

pub(crate) fn email(u: u64) -> String {
    format!("{}@{EMAIL_DOMAIN}", username(u))
}

/// A token hash no token hashes to in practice (64 hex digits, the row
/// number in the last 16, so they are unique).
pub(crate) fn token_hash(j: u64) -> String {
    format!("{:016x}{:016x}{:016x}{:016x}", h(j, 70), h(j, 71), h(j, 72), j ^ 0x5EED_0000_0000_0000)
}

/// Seeds the world of `size` (see the module documentation). Every account
/// gets `password_hash`. Idempotent: a database that already holds this
#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{Tag, id_range, seed_id};

    pub(crate) fn world(users: u64, assets: u64, invitations: u64) -> World {
        World::new(&SeedSize { users, assets, invitations }, Utc::now())
    }

    #[test]
    pub(crate) fn ids_parse_and_sort_by_row_number() {
        let a = seed_id(Tag::Asset, 9);
        let b = seed_id(Tag::Asset, 10);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
        assert!(a < b);
        let (lo, hi) = id_range(Tag::Asset);
        assert!(lo.as_str() < a.as_str() && a.as_str() < hi.as_str());
        assert!(seed_id(Tag::User, u64::from(u32::MAX)) < id_range(Tag::Estate).0);
    }

    #[test]
    pub(crate) fn known_accounts_reach_what_they_should() {
        for (users, assets) in [(60, 2_000), (10_000, 1_000_000), (20, 200)] {
            let w = world(users, assets, 500);
            let count = |u: u64| {
                (0..w.assets)
                    .filter(|&n| w.collaborators(n).contains(u) || w.shares(n).contains(u))
                    .count()
            };
            assert_eq!(count(USER_OWNER20), 20);
            assert_eq!(count(USER_OWNER50), 50);
            assert_eq!(count(USER_ESTATE_ADMIN), 0);
            assert_eq!(count(USER_INVITER) as u64, w.inviter_assets);
            let big = (0..w.assets)
                .filter(|&n| matches!(w.placement(n), Placement::Site { estate: 0, .. }))
                .count() as u64;
            assert_eq!(big, assets / 2);
            for u in KNOWN..w.users {
                for m in w.household(u).as_slice() {
                    assert!(*m >= KNOWN && *m != u);
                }
            }
        }
    }

    #[test]
    pub(crate) fn asset_times_are_distinct_and_in_the_past() {
        let w = world(60, 2_000, 500);
        let mut times: Vec<_> = (0..w.assets).map(|n| w.asset_created(n)).collect();
        assert!(times.iter().all(|t| *t < w.now));
        times.sort();
        times.dedup();
        assert_eq!(times.len() as u64, w.assets);
    }
}
