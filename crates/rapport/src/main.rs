//! The `rapport` binary.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAPPORT_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,tower_http=warn,tantivy=warn")
    });
    let json = std::env::var("RAPPORT_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    let cli = rapport::cli::Cli::parse();
    match rapport::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
