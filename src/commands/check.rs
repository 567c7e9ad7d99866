//! `pystats-gate check SET...`: the consistency invariants of stats sets.

use crate::cli::CheckArgs;
use crate::gate::check::{check_pair, check_set, render_text, CheckExceptions};
use crate::stats::set::StatsSet;

/// `pystats-gate check SET [OTHER]`.
pub fn cmd_check(args: &CheckArgs) -> anyhow::Result<i32> {
    use crate::cli::TableFormat as Format;
    let opts = crate::stats::raw::ParseOptions {
        allow_malformed: args.input.allow_malformed,
    };
    let exceptions = CheckExceptions::load_or_default(args.exceptions.as_deref())?;
    StatsSet::precheck_recorded_failures(&args.set)?;
    if let Some(other) = &args.other {
        StatsSet::precheck_recorded_failures(other)?;
    }
    let set = StatsSet::load(&args.set, opts)?;
    set.ensure_no_recorded_failures()?;
    crate::stats::complete::ensure_complete(&set)?;
    // Invariants hold trivially on dumps that count nothing: not an "ok".
    crate::gate::coverage::ensure_executed(&set)?;
    let meta = super::metadata_for(&set, &args.input)?;
    let mut reports = vec![check_set(&set, &meta, &exceptions, "set")?];
    let mut same_input = vec![];
    if let Some(other) = &args.other {
        let o = StatsSet::load(other, opts)?;
        // A set checked against itself: the pair checks hold trivially.
        same_input = crate::stats::set::shared_files(&set, &o);
        if !same_input.is_empty() && !args.allow_same_input {
            return Err(crate::stats::set::same_input_error(&args.set, other, &same_input).into());
        }
        o.ensure_no_recorded_failures()?;
        crate::stats::complete::ensure_comparable(&set, &o)?;
        crate::gate::coverage::ensure_executed(&o)?;
        let meta_o = super::metadata_for(&o, &args.input)?;
        reports[0].label = "base".into();
        reports.push(check_set(&o, &meta_o, &exceptions, "head")?);
        reports.push(check_pair(&set, &o, &exceptions));
    }
    let ok = reports.iter().all(|r| r.ok());
    let same: Vec<String> = same_input.iter().map(|p| p.display().to_string()).collect();
    let note = (!same.is_empty()).then(|| crate::report::prose::same_input_sentence(&same));
    match args.format {
        Format::Json => crate::output::print(&format!(
            "{}\n",
            serde_json::to_string_pretty(
                &serde_json::json!({"ok": ok, "reports": reports, "same_input": same})
            )?
        ))?,
        Format::Text => {
            let text = render_text(&reports, true);
            crate::output::print(&match &note {
                Some(n) => format!("note: {n}\n{text}"),
                None => text,
            })?
        }
    }
    Ok(if ok {
        crate::error::EXIT_PASS
    } else {
        crate::error::EXIT_GATE_FAILED
    })
}
