//! `pystats-gate build`: build one `--enable-pystats` interpreter and print its path.

use crate::cli::BuildArgs;
use crate::error::Error;
use crate::exec::builder::{build_revision, build_source};

/// `pystats-gate build`.
pub fn cmd_build(args: &BuildArgs) -> anyhow::Result<i32> {
    let config = (&args.build).into();
    let built = match (&args.repo, &args.source) {
        (_, Some(src)) => build_source(src, &config)?,
        (Some(repo), None) => build_revision(repo, &args.rev, &config)?,
        (None, None) => return Err(Error::input("give --repo DIR or --source DIR").into()),
    };
    crate::output::print(&format!("{}\n", built.python.display()))?;
    Ok(crate::error::EXIT_PASS)
}
