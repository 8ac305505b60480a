//! Fills each seeded table from the world, table by table.

use chrono::{Duration, NaiveDateTime};

use super::rows::{
    AssetRow, AuditRow, CollaboratorRow, EstateRow, HouseholdRow, InvitationRow, MemberRow,
    OverrideRow, PhotoRow, RecordRow, Run, ShareRow, SiteRow, UserRow,
};
use super::world::{
    COLOURS, ESTATE_NAMES, FUELS, InvitationKind, MAKES, Placement, SITE_KINDS, World, days, email,
    h, ms, pct, pick, plate, token_hash, username,
};
use super::{
    ESTATES, KNOWN, KNOWN_ACCOUNTS, OWNER20_ASSETS, OWNER50_ASSETS, SITES_PER_ESTATE, Tag,
    USER_INVITER, marker, seed_id,
};
use crate::error::Result;

/// Units (assets, users, invitations) generated per transaction: about
/// 20 000 to 50 000 rows.
const BLOCK: u64 = 20_000;

const PERMISSIONS: [&str; 3] = ["view", "edit", "manage"];

fn asset_id(n: u64) -> String {
    seed_id(Tag::Asset, n)
}

fn uid(u: u64) -> String {
    seed_id(Tag::User, u)
}

fn estate_id(e: u64) -> String {
    seed_id(Tag::Estate, e)
}

fn site_id(e: u64, s: u64) -> String {
    seed_id(Tag::Site, e * SITES_PER_ESTATE + s)
}

/// Users sign up over the first months, one a few minutes after another.
fn user_created(w: &World, u: u64) -> NaiveDateTime {
    w.origin - Duration::days(30) + Duration::seconds(w.user_gap_s * u as i64)
}

fn estate_created(w: &World, e: u64) -> NaiveDateTime {
    w.origin - Duration::days(20) + Duration::hours(e as i64 * 7)
}

pub(super) fn fill_all(run: &mut Run<'_, '_>, w: &World, password_hash: &str) -> Result<()> {
    fill_users(run, w, password_hash)?;
    fill_estates(run, w)?;
    fill_assets(run, w)?;
    fill_records(run, w)?;
    fill_households(run, w)?;
    fill_shares(run, w)?;
    fill_invitations(run, w)?;
    fill_audit(run, w)
}

fn fill_users(run: &mut Run<'_, '_>, w: &World, password_hash: &str) -> Result<()> {
    run.fill("users", w.users, w.users, BLOCK, |u, rows: &mut Vec<UserRow<'_>>| {
        let name = username(u);
        let created = user_created(w, u);
        let display = match usize::try_from(u).ok().and_then(|i| KNOWN_ACCOUNTS.get(i)) {
            Some(known) => format!("Seed {}", known.trim_start_matches("seed-")),
            None => format!("Seed User {u}"),
        };
        rows.push(UserRow {
            id: uid(u),
            email: email(u),
            username_canonical: name.to_lowercase(),
            username: name,
            display_name: display,
            password_hash,
            is_root: false,
            email_verified_at: Some(created + Duration::minutes(5)),
            credentials_changed_at: created,
            created_at: created,
            updated_at: created + Duration::minutes(5),
        });
    })
}

/// Estates, their sites, members and site overrides.
fn fill_estates(run: &mut Run<'_, '_>, w: &World) -> Result<()> {
    run.fill("estates", ESTATES, ESTATES, BLOCK, |e, rows| {
        rows.push(EstateRow {
            id: estate_id(e),
            name: format!("{} Estate", ESTATE_NAMES[usize::try_from(e).unwrap_or(0)]),
            created_at: estate_created(w, e),
            updated_at: estate_created(w, e),
        });
    })?;
    run.fill("sites", ESTATES * SITES_PER_ESTATE, ESTATES * SITES_PER_ESTATE, BLOCK, |i, rows| {
        let (e, s) = (i / SITES_PER_ESTATE, i % SITES_PER_ESTATE);
        let created = estate_created(w, e) + Duration::minutes(s as i64 + 1);
        rows.push(SiteRow {
            id: site_id(e, s),
            estate_id: estate_id(e),
            name: format!(
                "{} {} {}",
                ESTATE_NAMES[usize::try_from(e).unwrap_or(0)],
                pick(&SITE_KINDS, i, 50),
                s + 1
            ),
            created_at: created,
            updated_at: created,
        });
    })?;
    let members: u64 = (0..ESTATES).map(|e| w.estate_members(e).len() as u64).sum();
    run.fill("estate_members", members, ESTATES, BLOCK, |e, rows| {
        for (k, (user, role)) in w.estate_members(e).into_iter().enumerate() {
            let at = estate_created(w, e) + Duration::hours(k as i64 + 1);
            rows.push(MemberRow {
                estate_id: estate_id(e),
                user_id: uid(user),
                role,
                created_at: at,
                updated_at: at,
            });
        }
    })?;
    let overrides: u64 = (0..ESTATES).map(|e| w.site_overrides(e).len() as u64).sum();
    run.fill("site_overrides", overrides, ESTATES, BLOCK, |e, rows| {
        for (user, site, role) in w.site_overrides(e) {
            let at = estate_created(w, e) + Duration::days(2);
            rows.push(OverrideRow {
                site_id: site_id(e, site),
                user_id: uid(user),
                estate_id: estate_id(e),
                role,
                created_at: at,
                updated_at: at,
            });
        }
    })
}

fn asset_row(w: &World, n: u64) -> AssetRow {
    let created = w.asset_created(n);
    let name = format!("{} #{}", pick(&MAKES, n, 60), n + 1);
    let reference = (pct(n, 61) < 80).then(|| plate(n));
    let search_text =
        format!("{} {}", name, reference.as_deref().unwrap_or_default()).to_lowercase();
    let attributes = if pct(n, 62) < 70 {
        format!(
            r#"{{"year":{},"colour":"{}","fuel":"{}"}}"#,
            2008 + h(n, 63) % 18,
            pick(&COLOURS, n, 64),
            pick(&FUELS, n, 65)
        )
    } else {
        "{}".to_owned()
    };
    let (site, estate) = match w.placement(n) {
        Placement::Personal => (None, None),
        Placement::Site { estate, site } => (Some(site_id(estate, site)), Some(estate_id(estate))),
    };
    let updated = if pct(n, 66) < 30 { w.between(created, h(n, 67)) } else { created };
    AssetRow {
        id: asset_id(n),
        name,
        reference,
        search_text,
        attributes,
        site_id: site,
        estate_id: estate,
        created_by: Some(uid(w.primary(n))),
        created_at: created,
        updated_at: updated,
    }
}

/// Assets and their collaborators.
fn fill_assets(run: &mut Run<'_, '_>, w: &World) -> Result<()> {
    run.fill_each("assets", w.assets, BLOCK, |n| asset_row(w, n))?;
    let collaborators: u64 = (0..w.assets).map(|n| w.collaborators(n).len as u64).sum();
    run.fill("asset_collaborators", collaborators, w.assets, BLOCK, |n, rows| {
        let created = w.asset_created(n);
        for (i, &u) in w.collaborators(n).as_slice().iter().enumerate() {
            let added = if i == 0 { created } else { w.between(created, h(n, 80 + i as u64)) };
            rows.push(CollaboratorRow { asset_id: asset_id(n), user_id: uid(u), added_at: added });
        }
    })
}

/// The asset of record (or photo) `j`. The first records and photos go to
/// seed-owner20's assets, so the benchmark's asset has some.
fn record_asset(w: &World, j: u64, salt: u64) -> u64 {
    if j < 3 * OWNER20_ASSETS { j % OWNER20_ASSETS } else { h(j, salt) % w.assets }
}

fn record_row(w: &World, j: u64) -> RecordRow {
    const KINDS: [&str; 6] = ["service", "repair", "inspection", "work_order", "fuel", "note"];
    let n = record_asset(w, j, 90);
    let kind = pick(&KINDS, j, 91);
    let at = w.between(w.asset_created(n), h(j, 92));
    let title = match kind {
        "service" => "Annual service",
        "repair" => "Replaced brake pads",
        "inspection" => "Safety inspection",
        "work_order" => "Fit tow bar",
        "fuel" => "Fuel top-up",
        _ => "Note",
    };
    let costly = matches!(kind, "service" | "repair" | "fuel" | "work_order");
    RecordRow {
        id: seed_id(Tag::Record, j),
        asset_id: asset_id(n),
        kind,
        record_date: at.date(),
        title: title.to_owned(),
        notes: (pct(j, 93) < 50).then(|| format!("Seeded record {j}")),
        cost: costly.then(|| (h(j, 94) % 90_000) as f64 / 100.0 + 10.0),
        odometer: (pct(j, 95) < 70).then(|| i64::try_from(h(j, 96) % 250_000).unwrap_or(0)),
        created_by: Some(uid(w.primary(n))),
        created_at: at,
        updated_at: at,
    }
}

/// Records and photos.
fn fill_records(run: &mut Run<'_, '_>, w: &World) -> Result<()> {
    run.fill_each("asset_records", w.records, BLOCK, |j| record_row(w, j))?;
    run.fill("asset_photos", w.photos, w.photos, BLOCK, |j, rows| {
        let n = record_asset(w, j, 100);
        let at = w.between(w.asset_created(n), h(j, 101));
        rows.push(PhotoRow {
            id: seed_id(Tag::Photo, j),
            asset_id: asset_id(n),
            url: format!("https://photos.example.test/seed/{j}.jpg"),
            caption: (pct(j, 102) < 60).then(|| format!("Photo {} of asset {}", j + 1, n + 1)),
            created_by: Some(uid(w.primary(n))),
            created_at: at,
        });
    })
}

fn fill_households(run: &mut Run<'_, '_>, w: &World) -> Result<()> {
    const HOUSEHOLD_ROLES: [&str; 3] = ["viewer", "editor", "manager"];
    let households: u64 = (KNOWN..w.users).map(|u| w.household(u).len as u64).sum();
    run.fill("household_members", households, w.users - KNOWN, BLOCK, |r, rows| {
        let head = KNOWN + r;
        for (i, &m) in w.household(head).as_slice().iter().enumerate() {
            rows.push(HouseholdRow {
                head_id: uid(head),
                member_id: uid(m),
                role: pick(&HOUSEHOLD_ROLES, head * 8 + i as u64, 110),
                added_at: w.between(user_created(w, head), h(head, 111 + i as u64)),
            });
        }
    })
}

fn fill_shares(run: &mut Run<'_, '_>, w: &World) -> Result<()> {
    let now = w.now;
    let shares: u64 = (0..w.assets).map(|n| w.shares(n).len as u64).sum();
    run.fill("asset_shares", shares, w.assets, BLOCK, |n, rows| {
        let created = w.asset_created(n);
        for (i, &u) in w.shares(n).as_slice().iter().enumerate() {
            let salt = 120 + 10 * i as u64;
            let p = pct(n, salt);
            let permission = if p < 50 {
                PERMISSIONS[0]
            } else if p < 85 {
                PERMISSIONS[1]
            } else {
                PERMISSIONS[2]
            };
            let e = pct(n, salt + 1);
            let access_expires_at = if e < 65 {
                None
            } else if e < 85 {
                Some(now + days(1 + h(n, salt + 2) % 365))
            } else {
                Some(now - days(1 + h(n, salt + 2) % 365))
            };
            let granted = w.between(created, h(n, salt + 3));
            rows.push(ShareRow {
                asset_id: asset_id(n),
                user_id: uid(u),
                permission,
                access_expires_at: access_expires_at.map(|t| t.max(granted + Duration::hours(1))),
                granted_at: granted,
                invitation_id: None,
            });
        }
    })
}

const DOMAINS: [&str; 6] =
    ["example.test", "mail.test", "fleet.test", "farm.test", "contractors.test", "family.test"];

/// Invitation `j`'s resource type, resource, inviter and role.
fn invitation_target(w: &World, j: u64) -> (&'static str, String, u64, &'static str) {
    const ESTATE_ROLES: [&str; 3] = ["viewer", "editor", "admin"];
    let (kind, k) = w.invitation_kind(j);
    match kind {
        InvitationKind::Inviter => (
            "asset",
            asset_id(OWNER20_ASSETS + OWNER50_ASSETS + k % w.inviter_assets),
            USER_INVITER,
            pick(&PERMISSIONS, j, 130),
        ),
        InvitationKind::OtherAsset => {
            let n = w.general_start + h(j, 131) % w.general_count();
            ("asset", asset_id(n), w.primary(n), pick(&PERMISSIONS, j, 130))
        }
        InvitationKind::Estate => {
            let e = k % ESTATES;
            ("estate", estate_id(e), w.estate_owner(e), pick(&ESTATE_ROLES, j, 130))
        }
    }
}

/// Invitation `j`'s address, when it was answered and by whom.
fn invitation_response(
    w: &World,
    j: u64,
    status: &str,
    invited: NaiveDateTime,
) -> (String, Option<NaiveDateTime>, Option<String>) {
    let now = w.now;
    let responder = w.regular_user(h(j, 140));
    match status {
        "accepted" => (
            email(responder),
            Some((invited + Duration::hours(2 + (h(j, 141) % 48) as i64)).min(now)),
            Some(uid(responder)),
        ),
        "declined" => (
            format!("guest{j}@{}", pick(&DOMAINS, j, 142)),
            Some((invited + Duration::hours(1 + (h(j, 141) % 72) as i64)).min(now)),
            None,
        ),
        _ => (format!("guest{j}@{}", pick(&DOMAINS, j, 142)), None, None),
    }
}

fn invitation_row(w: &World, j: u64) -> InvitationRow {
    let now = w.now;
    let (resource_type, resource_id, inviter, role) = invitation_target(w, j);
    let status = match pct(j, 132) {
        0..30 => "pending",
        30..55 => "accepted",
        55..70 => "declined",
        70..85 => "expired",
        _ => "cancelled",
    };
    // Pending ones were sent in the last two weeks; the others over the
    // last year.
    let window_ms: u64 = if status == "pending" { 14 * 86_400_000 } else { 365 * 86_400_000 };
    let invited = now - Duration::hours(1) - ms(h(j, 133) % window_ms);
    let expires_at = match status {
        "pending" => (pct(j, 134) < 80).then(|| now + days(1 + h(j, 135) % 30)),
        "expired" => Some(invited + days(7)),
        _ => (pct(j, 134) < 70).then(|| invited + days(14)),
    };
    let access_expires_at = (resource_type == "asset" && pct(j, 136) < 30)
        .then(|| invited + days(30 + h(j, 137) % 335));
    let resend_count =
        if pct(j, 138) < 80 { 0 } else { 1 + i32::try_from(h(j, 139) % 3).unwrap_or(0) };
    let (email_to, responded_at, responded_by) = invitation_response(w, j, status, invited);
    InvitationRow {
        id: seed_id(Tag::Invitation, j),
        resource_type,
        resource_id,
        email: email_to,
        role,
        message: (pct(j, 143) < 40)
            .then(|| format!("Hi, here is access to our {resource_type}. Invitation {j}.")),
        status,
        token_hash: token_hash(j),
        invited_by: uid(inviter),
        invited_at: invited,
        expires_at,
        access_expires_at,
        last_sent_at: (invited + Duration::hours(i64::from(resend_count) * 6)).min(now),
        resend_count,
        responded_at,
        responded_by,
    }
}

fn fill_invitations(run: &mut Run<'_, '_>, w: &World) -> Result<()> {
    run.fill_each("invitations", w.total_invitations(), BLOCK, |j| invitation_row(w, j))
}

/// Audit event `j`: action, target type, target and the `after` value.
fn audit_event(w: &World, j: u64) -> (&'static str, &'static str, String, String) {
    use crate::audit::Action;
    let n = h(j, 150) % w.assets;
    let actor = w.primary(n);
    match j % 5 {
        0 => (
            Action::AssetCreated.as_str(),
            "asset",
            asset_id(n),
            format!(r#"{{"name":"{} #{}"}}"#, pick(&MAKES, n, 60), n + 1),
        ),
        1 => {
            let c = w.collaborators(n);
            let u = c.as_slice().last().copied().unwrap_or(actor);
            (
                Action::CollaboratorAdded.as_str(),
                "asset",
                asset_id(n),
                format!(r#"{{"user_id":"{}"}}"#, uid(u)),
            )
        }
        2 => (
            Action::InvitationCreated.as_str(),
            "asset",
            asset_id(n),
            format!(
                r#"{{"email":"guest-audit{j}@example.test","permission":"{}"}}"#,
                pick(&PERMISSIONS, j, 152)
            ),
        ),
        3 => {
            let e = j % ESTATES;
            let members = w.estate_members(e);
            let (u, role) = members[usize::try_from(h(j, 153) % members.len() as u64).unwrap_or(0)];
            (
                Action::MemberAdded.as_str(),
                "estate",
                estate_id(e),
                format!(r#"{{"user_id":"{}","role":"{role}"}}"#, uid(u)),
            )
        }
        _ => (
            Action::UserRegistered.as_str(),
            "user",
            uid(actor),
            format!(r#"{{"username":"{}"}}"#, username(actor)),
        ),
    }
}

/// The audit events, then the marker `claim_world` wrote first.
fn fill_audit(run: &mut Run<'_, '_>, w: &World) -> Result<()> {
    run.fill("audit_events", w.audit + 1, w.audit + 1, BLOCK, |j, rows| {
        if j == w.audit {
            rows.push(marker(w));
            return;
        }
        let n = h(j, 150) % w.assets;
        let (action, target_type, target_id, after) = audit_event(w, j);
        rows.push(AuditRow {
            id: seed_id(Tag::Audit, j),
            actor_id: Some(uid(w.primary(n))),
            action,
            target_type,
            target_id,
            before: None,
            after: Some(after),
            created_at: w.between(w.asset_created(n), h(j, 151)),
        });
    })
}
