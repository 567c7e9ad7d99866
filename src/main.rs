//! The `pystats-gate` binary: parse the CLI, run it, map errors to exit codes in one place.

use clap::Parser;

fn main() {
    let cli = pystats_gate::cli::Cli::parse();
    std::process::exit(match pystats_gate::run(cli) {
        Ok(code) => code,
        Err(err) => {
            use std::io::Write;
            // stderr may be closed too; the exit code still tells.
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            pystats_gate::error::exit_code_for(&err)
        }
    });
}
