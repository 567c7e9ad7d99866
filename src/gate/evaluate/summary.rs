//! summarize_stats-style reports of the compared sets: the full comparative summary and the single-set text diff (`--diff`).

use crate::gate::report_model::FullSummary;
use crate::stats::metadata::Metadata;
use crate::stats::set::StatsSet;

/// The full comparative summary (summarize_stats.py's tables) the HTML report folds in.
pub fn full_summary(
    base: &StatsSet,
    head: &StatsSet,
    mb: &Metadata,
    mh: &Metadata,
) -> anyhow::Result<FullSummary> {
    let doc = crate::stats::summary::summarize(base, Some(head), mb, Some(mh))?;
    Ok(FullSummary(doc))
}

/// One set's single-set report (summarize_stats.py's tables as text), used by `--diff`.
pub fn single_set_report(set: &StatsSet, meta: &Metadata) -> anyhow::Result<String> {
    let doc = crate::stats::summary::summarize(set, None, meta, None)?;
    Ok(crate::stats::summary::render_text(&doc))
}

/// Unified diff of the base and head single-set reports.
pub fn summary_diff(
    base: &StatsSet,
    head: &StatsSet,
    mb: &Metadata,
    mh: &Metadata,
) -> anyhow::Result<String> {
    let a = single_set_report(base, mb)?;
    let b = single_set_report(head, mh)?;
    Ok(similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(2)
        .header(
            &base.path.display().to_string(),
            &head.path.display().to_string(),
        )
        .to_string())
}
