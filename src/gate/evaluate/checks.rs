//! Input checks around the comparison: both sides executed something, and the consistency checks (step 6).

use crate::error::Error;
use crate::gate::check::{check_pair, CheckReport};
use crate::gate::notes::Note;
use crate::gate::report_model::EvalOptions;
use crate::stats::set::StatsSet;

/// Step 6: the consistency checks of both sides and the pair; a note when any fails, and
/// one per side with skipped malformed lines.
pub(super) fn run_checks(
    base: &StatsSet,
    head: &StatsSet,
    set_checks: Vec<CheckReport>,
    opts: &EvalOptions,
    notes: &mut Vec<Note>,
) -> anyhow::Result<Vec<CheckReport>> {
    let mut checks = set_checks;
    checks.push(check_pair(base, head, &opts.exceptions));
    if !checks.iter().all(|c| c.ok()) {
        let bad: Vec<String> = checks
            .iter()
            .flat_map(|c| c.violated().map(move |r| format!("{}: {}", c.label, r.id)))
            .collect();
        notes.push(Note::ChecksFailed {
            violated: bad,
            strict: opts.strict,
        });
    }
    for (label, set) in [("base", base), ("head", head)] {
        if !set.malformed.is_empty() {
            notes.push(Note::Malformed {
                side: label.to_string(),
                lines: set.malformed.len(),
            });
        }
    }
    Ok(checks)
}

/// A benchmark whose dump counts no instruction execution (on one side or both) holds no
/// specialization data (its opcode lines are gone: cut off, filtered, only the static
/// `specializable` lines, made-up keys, or not a dump of that program): every rule would be
/// skipped on it and the gate would pass having seen nothing. An input error naming the dump.
pub(super) fn ensure_both_executed(base: &StatsSet, head: &StatsSet) -> Result<(), Error> {
    let executed = crate::gate::coverage::executed;
    for (set, other) in [(base, head), (head, base)] {
        for r in &set.repeats {
            for (bench, dump) in &r.benchmarks {
                if executed(&dump.counters) > 0 {
                    continue;
                }
                let elsewhere = other
                    .repeats
                    .iter()
                    .filter_map(|o| o.benchmarks.get(bench))
                    .map(|d| executed(&d.counters))
                    .max()
                    .unwrap_or(0);
                let dump = match set.source {
                    crate::stats::set::SetSource::RawDir => {
                        set.path.join(&r.name).join(format!("{bench}.txt"))
                    }
                    crate::stats::set::SetSource::SummarizeJson => set.path.clone(),
                };
                let other_side = if elsewhere > 0 {
                    format!("while {} counts {elsewhere}", other.path.display())
                } else {
                    format!(
                        "and neither does {} (no side executed anything)",
                        other.path.display()
                    )
                };
                return Err(Error::input(format!(
                    "{}: counts no instruction execution (no `opcode[...].execution_count` line) {other_side} for {bench}: the dump lacks its opcode statistics, so no rule could check it",
                    dump.display(),
                )));
            }
        }
    }
    Ok(())
}
