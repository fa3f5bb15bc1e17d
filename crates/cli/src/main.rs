//! The `corruptencoder` binary: parses flags, installs the logger and the progress
//! renderer, and hands the work to the library crates.

mod alloc;
mod commands;
mod interrupt;
mod provenance;
mod render;
mod reporters;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::commands::Command;

/// CorruptEncoder (CVPR 2024) end to end: build poisoned pre-training sets, pre-train
/// encoders, evaluate backdoors and defenses, and report.
#[derive(Debug, clap::Parser)]
#[command(name = "corruptencoder", version, about, propagate_version = true)]
struct Cli {
    /// More log output (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Hide progress bars and warnings.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// Rust ignores SIGPIPE, so `println!` to a closed pipe (`corruptencoder theory | head`)
/// panics. Restoring the default ends the process quietly instead, as for other Unix tools.
fn default_sigpipe() {
    #[cfg(unix)]
    #[allow(unsafe_code)]
    // SAFETY: called at the start of main, before any thread exists; setting a standard
    // disposition (SIG_DFL) for SIGPIPE installs no handler code, so nothing can run
    // concurrently or re-enter Rust from a signal context.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[expect(clippy::print_stderr, reason = "the binary reports its error chain once")]
fn main() -> ExitCode {
    alloc::keep_freed_pages();
    default_sigpipe();
    interrupt::install();
    let root = Cli::command();
    let matches = root.clone().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let flags = render::Flags::of(&root, &matches);
    reporters::init_logger(cli.verbose, cli.quiet);
    match commands::run(cli.command, &reporters::Ui { quiet: cli.quiet }) {
        Ok(code) => code,
        Err(err) => match interrupt::received() {
            Some(signal) => {
                eprintln!(
                    "interrupted by signal {signal}; staged output removed, checkpoints kept"
                );
                ExitCode::from(128 + signal as u8)
            }
            None => {
                eprintln!("error: {}", render::render(&err, &flags));
                ExitCode::from(1)
            }
        },
    }
}
