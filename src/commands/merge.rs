//! `pystats-gate merge`: combine shard sets into one, failing if the shards recorded failures.

use crate::cli::MergeArgs;
use crate::error::Error;
use crate::exec::merge::merge_shards;

/// `pystats-gate merge`.
pub fn cmd_merge(args: &MergeArgs) -> anyhow::Result<i32> {
    let merged = merge_shards(&args.sets, &args.out)?;
    eprintln!(
        "merged {} shards into {} ({} repeats)",
        args.sets.len(),
        args.out.display(),
        merged.repeats.len()
    );
    if !merged.failures.is_empty() {
        // The merged set is written (its manifest keeps the failures), but it has holes.
        let list: Vec<String> = merged
            .failures
            .iter()
            .map(|f| format!("  {}/{}: {}", f.repeat, f.benchmark, f.reason))
            .collect();
        return Err(Error::Run(format!(
            "shards recorded {} failed run(s); the merged set is incomplete:\n{}",
            merged.failures.len(),
            list.join("\n")
        ))
        .into());
    }
    Ok(crate::error::EXIT_PASS)
}
