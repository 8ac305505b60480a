//! The `keyholder` binary: `serve` (default), `migrate`, `openapi`, `seed`.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use keyholder_api::config::{Cli, Command};
use keyholder_api::{Application, Clock, openapi, seeding, startup, telemetry};

fn main() -> ExitCode {
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
    let result = match command {
        Command::Migrate => migrate(&cli.config),
        Command::Seed(args) => seeding::run(&cli.config, &args).map(drop),
        _ => serve(cli.config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("keyholder: {e:#}");
            ExitCode::FAILURE
        }
    }
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
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
