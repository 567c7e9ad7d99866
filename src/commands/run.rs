//! `pystats-gate run`: run the corpus on one interpreter into a stats set.

use crate::cli::RunArgs;
use crate::exec::runner::run_corpus;

/// `pystats-gate run`.
pub fn cmd_run(args: &RunArgs) -> anyhow::Result<i32> {
    run_corpus(&args.python, &(&args.run).into(), &args.out, args.quiet)?;
    Ok(crate::error::EXIT_PASS)
}
