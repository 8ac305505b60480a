//! The `keyholder` binary: `serve` (default), `migrate`, `openapi`, `seed`,
//! `backup`.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use keyholder_api::config::{Cli, Command};
use keyholder_api::{Application, Clock, backup, openapi, seeding, startup, telemetry};

/// glibc's malloc, told to hand big blocks back and to keep few arenas.
/// By default it raises its mmap threshold to the size of each big block
/// freed (up to 32 MiB), so after one password hash (a 19 MiB argon2
/// block) every later hash comes from, and stays in, a per-thread arena:
/// measured, three sign-ins left 38 MiB resident for good. A fixed
/// threshold keeps such blocks mapped and returns them on free; two
/// arenas per core instead of eight bound what idle threads hold.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune_malloc() {
    let arenas = std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .saturating_mul(2);
    let arenas = libc::c_int::try_from(arenas).unwrap_or(4);
    // SAFETY: mallopt only sets allocator parameters. It is called first
    // thing in main, before any other thread exists, and a rejected value
    // leaves the default in place (the return value says so; nothing to do).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn main() -> ExitCode {
    tune_malloc();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if command == Command::Openapi {
        let mut out = std::io::stdout().lock();
        return match out.write_all(openapi::document_json().as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    telemetry::init(cli.config.log_format);
    let served = matches!(command, Command::Serve);
    let result = match command {
        Command::Migrate => migrate(&cli.config),
        Command::Seed(args) => seeding::run(&cli.config, &args).map(drop),
        Command::Backup(args) => backup::run(&cli.config, &args.output),
        _ => serve(cli.config),
    };
    match result {
        Ok(()) if served => leave_now(),
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("keyholder: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Ends the process after a clean shutdown without running the C
/// library's exit handlers. Threads that outlive the server (an actix
/// worker still dropping its state, the pool's reaper) may be closing
/// PostgreSQL connections, whose TLS is OpenSSL's, while OpenSSL's exit
/// handler frees its tables: seen as a segfault at exit, about one stop in
/// twenty under the fault harness. Everything worth keeping is committed or
/// written by then; the logs are flushed first.
#[allow(unsafe_code)]
fn leave_now() -> ExitCode {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process at once; nothing runs after it.
    unsafe { libc::_exit(0) }
}

fn migrate(config: &keyholder_api::Config) -> anyhow::Result<()> {
    let db = startup::connect(config)?;
    let applied = db.migrate()?;
    if applied.is_empty() {
        tracing::info!("the database is up to date");
    }
    for m in applied {
        tracing::info!(migration = %m, "migration applied");
    }
    Ok(())
}

fn serve(config: keyholder_api::Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let bind = config.bind;
        let app = Application::build(config, Clock::system()).await?;
        tracing::info!(
            "Keyholder listening on http://{bind} (Swagger UI at http://{bind}/swagger-ui/)"
        );
        app.run().await?;
        Ok(())
    })
}
