//! `keyholder seed`: migrates, hashes the one password every seeded account
//! shares, runs the store's generator with a progress bar per table on
//! standard error, and prints the row counts and the known accounts.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use keyholder_domain::values::Password;
use keyholder_store::seed::{self, SeedProgress, SeedReport, SeedSize};

use crate::config::{Config, SeedArgs};
use crate::{passwords, startup};

/// The default `--password`, printed with the accounts (any other is not).
pub const DEFAULT_PASSWORD: &str = "bench-password-1";

/// What each known account reaches, for the summary.
const KNOWN_REACH: [&str; 4] = [
    "collaborator on 20 personal assets, nothing else",
    "collaborator on 50 personal assets, nothing else",
    "admin of the estate holding half of all assets, nothing else",
    "collaborator on the assets carrying most asset invitations",
];

/// One bar per table, drawn to standard error; without a terminal, one line
/// per table instead.
struct Bars {
    multi: MultiProgress,
    bar: Option<ProgressBar>,
    started: Instant,
    plain: bool,
}

impl Bars {
    fn new() -> Self {
        let plain = !std::io::stderr().is_terminal();
        let target =
            if plain { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        Self {
            multi: MultiProgress::with_draw_target(target),
            bar: None,
            started: Instant::now(),
            plain,
        }
    }
}

impl SeedProgress for Bars {
    fn start(&mut self, table: &'static str, rows: u64) {
        let style = ProgressStyle::with_template(
            "{prefix:>20} [{bar:40.cyan/blue}] {pos:>9}/{len:9} {per_sec:>12} {elapsed:>4} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = self.multi.add(ProgressBar::new(rows));
        bar.set_style(style);
        bar.set_prefix(table);
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(bar);
        self.started = Instant::now();
    }

    fn advance(&mut self, rows: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(rows);
        }
    }

    fn finish(&mut self, table: &'static str, inserted: u64, skipped: bool) {
        let message =
            if skipped { "already there".to_owned() } else { format!("{inserted} inserted") };
        if self.plain {
            eprintln!("seed: {table}: {message} ({:.1} s)", self.started.elapsed().as_secs_f64());
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_with_message(message);
        }
    }
}

/// Runs `keyholder seed`: migrations, then the world of `args`' size.
/// Prints the counts and the known accounts to standard output.
pub fn run(config: &Config, args: &SeedArgs) -> anyhow::Result<SeedReport> {
    let size = SeedSize { users: args.users, assets: args.assets, invitations: args.invitations };
    size.validate()?;
    let password = Password::parse(&args.password)
        .map_err(|e| anyhow!("--password is not an acceptable password: {e}"))?;
    let db = startup::connect(config)?;
    for m in db.migrate()? {
        tracing::info!(migration = %m, "migration applied");
    }
    let started = Instant::now();
    // One argon2id hash for every account: hashing each would take hours.
    let hash = passwords::hash(password.expose())
        .map_err(|e| anyhow!("hashing the seed password failed: {e}"))?;
    let mut conn = db.conn().context("no database connection")?;
    let mut bars = Bars::new();
    let report = seed::seed(&mut conn, &size, &hash, chrono::Utc::now(), &mut bars)?;
    drop(bars);
    let elapsed = started.elapsed();
    print_summary(args, &report, elapsed)?;
    let mismatches = report.mismatches();
    if !mismatches.is_empty() {
        let tables: Vec<String> = mismatches
            .iter()
            .map(|t| format!("{} ({} seeded rows, {} expected)", t.table, t.after, t.expected))
            .collect();
        bail!(
            "the database holds a seeded world of another size: {}; seed an empty database",
            tables.join(", ")
        );
    }
    Ok(report)
}

fn print_summary(args: &SeedArgs, report: &SeedReport, elapsed: Duration) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if report.already_seeded {
        writeln!(out, "already seeded: nothing to write")?;
    } else {
        writeln!(out, "seeded in {:.1} s", elapsed.as_secs_f64())?;
    }
    writeln!(out, "{:<22} {:>10} {:>10}", "table", "rows", "inserted")?;
    let mut total = 0;
    for t in &report.tables {
        total += t.after;
        writeln!(out, "{:<22} {:>10} {:>10}", t.table, t.after, t.inserted)?;
    }
    writeln!(out, "{:<22} {:>10}", "total", total)?;
    let password =
        if *args.password == *DEFAULT_PASSWORD { DEFAULT_PASSWORD } else { "the --password given" };
    writeln!(out, "known accounts (verified; password: {password}):")?;
    for (name, reach) in seed::KNOWN_ACCOUNTS.iter().zip(KNOWN_REACH) {
        writeln!(out, "  {name:<18} {:<40} {reach}", format!("{name}@{}", seed::EMAIL_DOMAIN))?;
    }
    Ok(())
}
