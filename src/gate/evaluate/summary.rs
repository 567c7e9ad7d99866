//! summarize_stats-style reports of the compared sets: the full comparative summary and the single-set text diff (`--diff`).

use crate::gate::report_model::{EvalOptions, FullSummary, GateReport, SummaryDiff};
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

/// Attaches the full comparative summary to a finished report, once, for the formats that
/// show it (HTML, JSON): [`super::evaluate`] leaves it out, as bisect steps, mutants and
/// `--repeats auto` looks never show it. With `--allow-missing-benchmarks` it covers what
/// the rules compared: the benchmarks and repeats both sides have.
pub fn attach_full_summary(
    rep: &mut GateReport,
    base: &StatsSet,
    head: &StatsSet,
    opts: &EvalOptions,
) -> anyhow::Result<()> {
    let (mb, mh) = (&opts.meta_base, &opts.meta_head);
    let summary = if rep.missing_data.is_empty() {
        full_summary(base, head, mb, mh)?
    } else {
        let (b, h) = crate::stats::set::restrict_to_common(base, head)?;
        full_summary(&b, &h, mb, mh)?
    };
    rep.full_summary = Some(summary);
    Ok(())
}

/// The base and head single-set reports (summarize_stats.py's tables) that `--diff` shows
/// as a unified diff (`report::summary_diff_text`).
pub fn summary_diff(
    base: &StatsSet,
    head: &StatsSet,
    mb: &Metadata,
    mh: &Metadata,
) -> anyhow::Result<SummaryDiff> {
    Ok(SummaryDiff {
        base: crate::stats::summary::summarize(base, None, mb, None)?,
        head: crate::stats::summary::summarize(head, None, mh, None)?,
        base_label: base.path.display().to_string(),
        head_label: head.path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::evaluate::evaluate;
    use crate::gate::evaluate::tests::opts;
    use crate::stats::set::real_fixture;

    /// `evaluate` (what every bisect step, mutant and look runs) leaves the summary out; the
    /// writers attach it over the sets the rules compared.
    #[test]
    fn the_summary_is_attached_on_demand_over_the_compared_sets() {
        let (base, head) = (real_fixture("aa-base"), real_fixture("aa-head"));
        let o = opts();
        let mut rep = evaluate(&base, &head, &o).unwrap();
        assert!(rep.full_summary.is_none());
        attach_full_summary(&mut rep, &base, &head, &o).unwrap();
        let whole = full_summary(&base, &head, &o.meta_base, &o.meta_head).unwrap();
        assert_eq!(
            rep.full_summary.as_ref().map(|s| s.0.head.clone()),
            Some(whole.0.head)
        );
        // One dump missing on head: both sides summarized without that benchmark (3 repeats
        // of `arith` left of 2 benchmarks x 3 repeats).
        let mut short = head.clone();
        short.repeats[2].benchmarks.shift_remove("attrs").unwrap();
        let mut allowing = opts();
        allowing.allow_missing_benchmarks = true;
        let mut rep = evaluate(&base, &short, &allowing).unwrap();
        assert!(!rep.missing_data.is_empty());
        attach_full_summary(&mut rep, &base, &short, &allowing).unwrap();
        let doc = &rep.full_summary.unwrap().0;
        let files = |d: &crate::stats::summary::SideInfo| d.files;
        assert_eq!(base.files(), 6);
        assert_eq!(files(&doc.base), 3);
        assert_eq!(doc.head.as_ref().map(files), Some(3));
    }
}
