//! Intended changes: acceptances (`--accept`, commit trailers) marking outcomes, and `--allow-same-input`.

use crate::error::Error;
use crate::gate::accept::Acceptance;
use crate::gate::report_model::{GateReport, OutcomeStatus, RuleOutcome, Verdict};
use crate::gate::rules::RuleSet;

/// Records that base and head are the same files (`--allow-same-input`): the verdict is
/// then at best INCONCLUSIVE, and every format says why from `same_input`.
pub fn mark_same_input(rep: &mut GateReport, shared: &[std::path::PathBuf]) {
    const SHOWN: usize = 20;
    rep.same_input = shared
        .iter()
        .take(SHOWN)
        .map(|p| p.display().to_string())
        .collect();
    if rep.verdict == Verdict::Pass {
        rep.verdict = Verdict::Inconclusive;
    }
}

/// Marks the violated and inconclusive outcomes each acceptance matches (first acceptance
/// wins) and counts the matches. Errors on an unknown rule or an acceptance matching nothing.
pub(super) fn apply_acceptances(
    outcomes: &mut [RuleOutcome],
    accepts: &mut [Acceptance],
    rules: &RuleSet,
) -> anyhow::Result<()> {
    let open = |o: &RuleOutcome| {
        matches!(
            o.status,
            OutcomeStatus::Regression | OutcomeStatus::Inconclusive
        )
    };
    for a in accepts.iter_mut() {
        if !rules.rules.iter().any(|r| r.name == a.rule) {
            let names: Vec<&str> = rules.rules.iter().map(|r| r.name.as_str()).collect();
            return Err(Error::input(format!(
                "{} `{}`: no rule named {:?} (rules: {})",
                a.source,
                a.target(),
                a.rule,
                names.join(", ")
            ))
            .into());
        }
        for o in outcomes.iter_mut() {
            if open(o)
                && o.accepted.is_none()
                && a.matches(&o.rule, &o.metric, o.benchmark.as_deref())
            {
                o.accepted = Some(a.reason.clone());
                a.matched += 1;
            }
        }
        if a.matched == 0 {
            let still_open: Vec<String> = outcomes
                .iter()
                .filter(|o| o.rule == a.rule && open(o))
                .map(|o| crate::gate::metrics::metric_label(&o.metric, &o.benchmark))
                .collect();
            return Err(Error::input(format!(
                "{} `{}`: matches no violated or inconclusive outcome ({})",
                a.source,
                a.target(),
                if still_open.is_empty() {
                    format!("rule {} is not violated anywhere", a.rule)
                } else {
                    format!("rule {} is open on: {}", a.rule, still_open.join(", "))
                }
            ))
            .into());
        }
    }
    Ok(())
}
