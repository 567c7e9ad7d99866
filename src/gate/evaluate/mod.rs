//! The comparison pipeline: metrics x repeats -> statistics -> rule outcomes -> [`GateReport`].
//!
//! [`evaluate`] computes everything; renderers in `crate::report` only format it.

mod acceptances;
mod attribution;
mod checks;
mod compare;
mod correction;
mod limits;
mod movers;
mod outcome;
mod pairing;
mod summary;
#[cfg(test)]
pub(crate) mod tests;

pub use acceptances::mark_same_input;
pub(crate) use outcome::{decide, sort_worst_first};
pub use summary::{full_summary, single_set_report, summary_diff};

use acceptances::apply_acceptances;
use checks::{ensure_both_executed, run_checks};
use compare::compare_metrics;
use correction::{correct, counts_as_fail};
use limits::test_rules;
use movers::movers;
use outcome::{inconclusive_note, noise_note, rule_outcomes};
use pairing::pair_repeats;

use crate::error::Error;
use crate::gate::notes::Note;
use crate::gate::report_model::{
    EvalOptions, FalsePositives, GateReport, SetInfo, Verdict, REPORT_SCHEMA_VERSION,
};
use crate::gate::rules::Severity;
use crate::gate::statistics::{exact_test_from, ErrorControl};
use crate::stats::metadata::Metadata;
use crate::stats::set::StatsSet;

fn set_info(set: &StatsSet, meta: &Metadata) -> SetInfo {
    SetInfo {
        path: set.path.display().to_string(),
        repeats: set.repeats.iter().map(|r| r.name.clone()).collect(),
        seeds: set.repeats.iter().map(|r| r.seed).collect(),
        files: set.files(),
        benchmarks: set.benchmark_names(),
        metadata_version: meta.version.clone(),
        revision: set.manifest.as_ref().and_then(|m| m.revision.clone()),
    }
}

/// Computes the whole comparison. Errors only on bad input (e.g. a rule pattern matching no metric).
pub fn evaluate(
    base: &StatsSet,
    head: &StatsSet,
    opts: &EvalOptions,
) -> anyhow::Result<GateReport> {
    base.ensure_no_recorded_failures()?;
    head.ensure_no_recorded_failures()?;
    let gaps = crate::stats::set::coverage_gaps(&[("base", base), ("head", head)]);
    if gaps.is_empty() {
        return evaluate_complete(base, head, opts);
    }
    let aggregate_only = [base, head]
        .iter()
        .any(|s| s.source == crate::stats::set::SetSource::SummarizeJson);
    if aggregate_only && base.source != head.source {
        return Err(Error::input(format!(
            "{} and {}: a summarize_stats JSON holds one aggregate without benchmarks or repeats, so it can only be compared with another such JSON",
            base.path.display(),
            head.path.display()
        ))
        .into());
    }
    if !opts.allow_missing_benchmarks {
        return Err(Error::input(format!(
            "base and head do not cover the same benchmarks and repeats:\n  {}\n(compare only what both have with --allow-missing-benchmarks)",
            gaps.iter().take(20).cloned().collect::<Vec<_>>().join("\n  ")
        ))
        .into());
    }
    let (b, h) = crate::stats::set::restrict_to_common(base, head)?;
    let mut rep = evaluate_complete(&b, &h, opts)?;
    rep.notes.insert(
        0,
        Note::IncompleteData {
            missing: gaps.clone(),
        },
    );
    rep.missing_data = gaps;
    Ok(rep)
}

/// [`evaluate`] on two sets that cover the same benchmarks and repeats: pair repeats,
/// compare metrics, test rules, correct, check, decide.
fn evaluate_complete(
    base: &StatsSet,
    head: &StatsSet,
    opts: &EvalOptions,
) -> anyhow::Result<GateReport> {
    ensure_both_executed(base, head)?;
    let mut notes: Vec<Note> = opts.notes.iter().cloned().map(Note::Rendered).collect();
    let mut sides = pair_repeats(base, head, opts, &mut notes)?;
    let (comparisons, tested) = compare_metrics(&sides, opts);
    let discoveries = comparisons
        .iter()
        .filter(|c| !c.stats.deterministic && c.changed)
        .count();
    let candidates = test_rules(&sides, opts);
    let checks_found: Vec<(usize, Option<&crate::gate::notes::SkipReason>)> = candidates
        .iter()
        .map(|c| (c.rule_idx, c.skipped.as_ref()))
        .collect();
    let unchecked_rules = crate::gate::coverage::unchecked_rules(&opts.rules, &checks_found)?;
    // Nothing reads the names again: at 5,000 benchmarks they are 100 MB.
    sides.all = Default::default();
    let corrected = correct(&candidates, opts);
    // Said in the statistics footnote, not as a loud note: the t test still decides. The
    // exact test's reach is judged at the Holm family's strictest level, as in `correct`.
    let family_level = opts.alpha / corrected.holm_family.max(1) as f64;
    let cross_check = crate::gate::statistics::power_note(
        sides.paired,
        sides.base_tables.len(),
        sides.head_tables.len(),
        family_level,
    );
    let exact_from = exact_test_from(sides.paired, family_level);
    let sign_tested_fail_level = candidates
        .iter()
        .filter(|c| c.skipped.is_none() && !c.unverified && counts_as_fail(c, opts))
        .filter(|c| c.tests.iter().any(|t| t.sign_test))
        .count();
    let mut outcomes = rule_outcomes(candidates, &corrected, &sides, opts);
    let mut acceptances = opts.accept.clone();
    apply_acceptances(&mut outcomes, &mut acceptances, &opts.rules)?;
    let (top_movers, changed_facts, changed_in_rules) = movers(
        &comparisons,
        &outcomes,
        opts,
        &sides.benches,
        &sides.base_tables,
        &sides.head_tables,
    );
    let checks = run_checks(base, head, opts, &mut notes)?;
    if let Some(n) = &opts.noise {
        notes.push(noise_note(n, &outcomes, sides.paired));
    }
    let path_count = |path: ErrorControl| {
        outcomes
            .iter()
            .filter(|o| o.severity == Severity::Fail || opts.fail_on_warn)
            .filter(|o| o.error_control == path)
            .count()
    };
    let false_positives = FalsePositives {
        tested,
        expected_uncorrected: tested as f64 * opts.alpha,
        discoveries,
        expected_false_discoveries: discoveries as f64 * opts.alpha,
        holm_family: corrected.holm_family,
        exact_fail_level: path_count(ErrorControl::Exact),
        certified_fail_level: outcomes
            .iter()
            .filter(|o| o.certified && (o.severity == Severity::Fail || opts.fail_on_warn))
            .count(),
        sign_tested_fail_level,
        sign_tested_out_of_reach: corrected.out_of_reach,
        unverified_fail_level: path_count(ErrorControl::Unverified),
        cross_check,
        exact_from,
    };
    let checks_ok = checks.iter().all(|c| c.ok());
    let reach = opts.reach.clone().map(|mut r| {
        // Reached: non-zero in some repeat of either side (`comparisons` holds exactly those
        // aggregate metrics).
        let seen: std::collections::HashSet<&str> =
            comparisons.iter().map(|c| c.name.as_str()).collect();
        r.mark_reached(|name| seen.contains(name));
        r
    });
    let verdict = decide(
        &outcomes,
        checks_ok,
        opts.strict,
        opts.fail_on_warn,
        reach.as_ref(),
        unchecked_rules
            .iter()
            .any(|u| u.blocks_pass(opts.fail_on_warn)),
    );
    let open_outcomes = outcomes
        .iter()
        .any(|o| o.open_inconclusive() && (o.severity == Severity::Fail || opts.fail_on_warn));
    if verdict == Verdict::Inconclusive && open_outcomes {
        // The INCONCLUSIVE note says why repeats are unpaired and what to do: once is enough.
        notes.retain(|n| !matches!(n, Note::Unpaired(_)));
        notes.push(inconclusive_note(
            &outcomes,
            sides.paired,
            base,
            head,
            sides.base_tables.len().min(sides.head_tables.len()),
        ));
    }
    if let Some(r) = reach.as_ref().filter(|r| r.unreached().next().is_some()) {
        notes.push(Note::Unreached(Box::new(r.clone())));
    }
    Ok(GateReport {
        schema_version: REPORT_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        verdict,
        alpha: opts.alpha,
        confidence: 1.0 - opts.alpha,
        paired: sides.paired,
        fail_on_warn: opts.fail_on_warn,
        strict: opts.strict,
        base: set_info(base, &opts.meta_base),
        head: set_info(head, &opts.meta_head),
        rules_files: opts.rules.files.clone(),
        outcomes,
        top_movers,
        changed_facts,
        changed_in_rules,
        acceptances,
        display: opts.display.clone(),
        false_positives,
        comparisons,
        checks,
        notes,
        missing_data: vec![],
        reach,
        unchecked_rules,
        same_input: vec![],
        full_summary: Some(full_summary(base, head, &opts.meta_base, &opts.meta_head)?),
        summary_diff: None,
    })
}
