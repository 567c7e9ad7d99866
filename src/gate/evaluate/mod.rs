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
mod results;
mod summary;
#[cfg(test)]
pub(crate) mod tests;

pub use acceptances::mark_same_input;
pub(crate) use outcome::{decide, sort_worst_first};
pub use summary::{attach_full_summary, full_summary, summary_diff};

use acceptances::apply_acceptances;
use checks::{ensure_both_executed, run_checks};
use compare::compare_metrics;
use correction::correct;
use limits::{test_rules, Candidate};
use movers::movers;
use outcome::{inconclusive_note, noise_note, rule_outcomes};
use pairing::{pair_repeats, union_in_order, Sides};
use results::compare_results;

use crate::error::Error;
use crate::gate::coverage::UncheckedRule;
use crate::gate::metrics::RepeatMetrics;
use crate::gate::notes::{Note, SkipReason};
use crate::gate::reach::Reach;
use crate::gate::report_model::{
    EvalOptions, FalsePositives, GateReport, MetricComparison, RuleOutcome, SetInfo, Verdict,
    REPORT_SCHEMA_VERSION,
};
use crate::gate::rules::Severity;
use crate::stats::metadata::Metadata;
use crate::stats::set::StatsSet;

/// The rule decision alone on metric tables already computed (one per repeat, head in its
/// pairing order): the same rule tests, corrections and outcomes as [`evaluate`], without
/// checks, movers, reach or reports. The simulator's entry (ci/gate-sim.sh).
pub fn decide_tables(
    base_tables: Vec<RepeatMetrics>,
    head_tables: Vec<RepeatMetrics>,
    paired: bool,
    opts: &EvalOptions,
) -> anyhow::Result<(Verdict, Vec<RuleOutcome>)> {
    let unverified = base_tables.len() < 2 || head_tables.len() < 2;
    let all = crate::gate::metrics::union_of(base_tables.iter().chain(&head_tables));
    let benches = union_in_order(
        base_tables
            .iter()
            .chain(&head_tables)
            .flat_map(|t| t.benchmarks()),
    );
    let mut sides = Sides {
        base_tables,
        head_tables,
        paired,
        unverified,
        all,
        benches,
        checks: vec![],
    };
    let rules = decide_rules(&mut sides, opts)?;
    let blind = blocks_pass(&rules.unchecked, opts);
    let verdict = decide(
        &rules.outcomes,
        true,
        false,
        opts.strict,
        opts.fail_on_warn,
        None,
        blind,
    );
    Ok((verdict, rules.outcomes))
}

/// Steps 3-5 on paired sides: the rules' outcomes, the rules nothing checked, and the error
/// statement of the tests behind them.
struct RuleDecisions {
    outcomes: Vec<RuleOutcome>,
    unchecked: Vec<UncheckedRule>,
    false_positives: FalsePositives,
}

/// Rule tests, multiple-testing correction and outcomes: the one sequence [`evaluate`] and
/// [`decide_tables`] share. Empties `sides.all` once the tests have it.
fn decide_rules(sides: &mut Sides, opts: &EvalOptions) -> anyhow::Result<RuleDecisions> {
    let candidates = test_rules(sides, opts);
    let unchecked = find_unchecked(&candidates, opts)?;
    // Nothing reads the names again: at 5,000 benchmarks they are 100 MB.
    sides.all = Default::default();
    let corrected = correct(&candidates, opts);
    let false_positives = FalsePositives::from_tests(&candidates, &corrected, sides, opts);
    let outcomes = rule_outcomes(candidates, &corrected, sides, opts);
    Ok(RuleDecisions {
        outcomes,
        unchecked,
        false_positives,
    })
}

/// The rules no candidate checks, decided or skipped (an input error unless optional).
fn find_unchecked(
    candidates: &[Candidate],
    opts: &EvalOptions,
) -> anyhow::Result<Vec<UncheckedRule>> {
    let found: Vec<(usize, Option<&SkipReason>)> = candidates
        .iter()
        .map(|c| (c.rule_idx, c.skipped.as_ref()))
        .collect();
    crate::gate::coverage::unchecked_rules(&opts.rules, &found)
}

/// Whether an unchecked rule keeps the verdict from being PASS.
fn blocks_pass(unchecked: &[UncheckedRule], opts: &EvalOptions) -> bool {
    unchecked.iter().any(|u| u.blocks_pass(opts.fail_on_warn))
}

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
    crate::stats::complete::ensure_comparable(base, head)?;
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
/// compare metrics, test rules, correct, accept, check, decide.
fn evaluate_complete(
    base: &StatsSet,
    head: &StatsSet,
    opts: &EvalOptions,
) -> anyhow::Result<GateReport> {
    ensure_both_executed(base, head)?;
    let mut notes: Vec<Note> = opts.notes.clone();
    let mut sides = pair_repeats(base, head, opts, &mut notes)?;
    let (comparisons, tested) = compare_metrics(&sides, opts);
    let RuleDecisions {
        mut outcomes,
        unchecked: unchecked_rules,
        mut false_positives,
    } = decide_rules(&mut sides, opts)?;
    false_positives.count_movers(&comparisons, tested, opts.alpha);
    let mut acceptances = opts.accept.clone();
    apply_acceptances(&mut outcomes, &mut acceptances, &opts.rules)?;
    false_positives.count_outcomes(&outcomes, opts.fail_on_warn);
    let (top_movers, changed_facts, changed_in_rules) = movers(
        &comparisons,
        &outcomes,
        opts,
        &sides.benches,
        &sides.base_tables,
        &sides.head_tables,
    );
    let set_checks = std::mem::take(&mut sides.checks);
    let checks = run_checks(base, head, set_checks, opts, &mut notes)?;
    let results = compare_results(base, head);
    let reach = reach_seen(opts.reach.as_ref(), &comparisons);
    let verdict = decide(
        &outcomes,
        checks.iter().all(|c| c.ok()),
        results.failed(),
        opts.strict,
        opts.fail_on_warn,
        reach.as_ref(),
        blocks_pass(&unchecked_rules, opts),
    );
    closing_notes(
        &mut notes,
        (base, head),
        &sides,
        &outcomes,
        verdict,
        reach.as_ref(),
        opts,
    );
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
        results,
        full_summary: None,
        summary_diff: None,
    })
}

/// The changed code with each place marked reached when a counter of it is non-zero in some
/// repeat of either side (`comparisons` holds exactly those aggregate metrics).
fn reach_seen(reach: Option<&Reach>, comparisons: &[MetricComparison]) -> Option<Reach> {
    reach.cloned().map(|mut r| {
        let seen: std::collections::HashSet<&str> =
            comparisons.iter().map(|c| c.name.as_str()).collect();
        r.mark_reached(|name| seen.contains(name));
        r
    })
}

/// The notes known once the verdict is: the noise file's, the INCONCLUSIVE one (replacing
/// the unpaired note: it says why and what to do), and the unreached change.
fn closing_notes(
    notes: &mut Vec<Note>,
    (base, head): (&StatsSet, &StatsSet),
    sides: &Sides,
    outcomes: &[RuleOutcome],
    verdict: Verdict,
    reach: Option<&Reach>,
    opts: &EvalOptions,
) {
    if let Some(n) = &opts.noise {
        notes.push(noise_note(n, outcomes, sides.paired));
    }
    let open_outcomes = outcomes
        .iter()
        .any(|o| o.open_inconclusive() && (o.severity == Severity::Fail || opts.fail_on_warn));
    if verdict == Verdict::Inconclusive && open_outcomes {
        notes.retain(|n| !matches!(n, Note::Unpaired(_)));
        notes.push(inconclusive_note(
            outcomes,
            sides.paired,
            base,
            head,
            sides.base_tables.len().min(sides.head_tables.len()),
        ));
    }
    if let Some(r) = reach.filter(|r| r.unreached().next().is_some()) {
        notes.push(Note::Unreached(Box::new(r.clone())));
    }
}
