//! The `pystats-gate` binary: parse the CLI, run it, map errors to exit codes in one place.

use clap::Parser;

fn main() {
    std::process::exit(match parse().and_then(pystats_gate::run) {
        Ok(code) => code,
        Err(err) => {
            use std::io::Write;
            // stderr may be closed too; the exit code still tells.
            let _ = writeln!(
                std::io::stderr(),
                "{}",
                pystats_gate::error::message_for(&err)
            );
            pystats_gate::error::exit_code_for(&err)
        }
    });
}

/// The parsed command line. `--help` and `--version` print through the one writer, so a
/// failed write (`> /dev/full`) is an output error (exit 2), not a silent 0; usage errors
/// print as clap prints them (exit 2).
fn parse() -> anyhow::Result<pystats_gate::cli::Cli> {
    match pystats_gate::cli::Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) if e.use_stderr() => e.exit(),
        Err(e) => {
            let text = if pystats_gate::exec::progress::color_on_stdout() {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            pystats_gate::output::print(&text)?;
            std::process::exit(pystats_gate::error::EXIT_PASS)
        }
    }
}
