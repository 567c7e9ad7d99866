//! What the compared data let the rules check: a rule with no decided check, or base and head being the same files, is said in every report format and is never a PASS.

use crate::error::Error;
use crate::gate::notes::SkipReason;
use crate::gate::rules::{RuleSet, Severity};
use serde::{Deserialize, Serialize};

/// A rule none of whose checks was decided on the compared data: it found no metric
/// (allowed only to `optional` rules), or every check of it was skipped (below `min_count`,
/// no comparable sample, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UncheckedRule {
    pub rule: String,
    pub severity: Severity,
    /// Declared `optional = true`: allowed to check nothing, so it does not keep a PASS away.
    pub optional: bool,
    /// Its checks in the compared data, every one skipped (0: it matched no metric).
    pub skipped: usize,
    /// Why: the first skip's reason, or that no metric matched.
    pub reason: SkipReason,
}

impl UncheckedRule {
    /// Whether it keeps the verdict from passing: it is not optional and could fail the gate
    /// (fail-level, or any level under `--fail-on-warn`), like an inconclusive outcome.
    pub fn blocks_pass(&self, fail_on_warn: bool) -> bool {
        !self.optional && (self.severity == Severity::Fail || fail_on_warn)
    }
}

/// Instruction executions a dump counts (its `opcode[...].execution_count` lines): zero for
/// a dump of only static `specializable` lines, made-up keys, or one cut before its opcodes.
pub fn executed(c: &crate::stats::raw::Counters) -> u64 {
    c.iter()
        .filter(|(k, _)| k.starts_with("opcode[") && k.ends_with("].execution_count"))
        .map(|(_, v)| v)
        .fold(0u64, u64::saturating_add)
}

/// An input error naming the first dump of `set` that counts no instruction execution:
/// every invariant and rule would hold on it trivially, having seen nothing.
pub fn ensure_executed(set: &crate::stats::set::StatsSet) -> Result<(), Error> {
    for r in &set.repeats {
        for (bench, dump) in &r.benchmarks {
            if executed(&dump.counters) == 0 {
                let path = match set.source {
                    crate::stats::set::SetSource::RawDir if r.name != "." => {
                        set.path.join(&r.name).join(format!("{bench}.txt"))
                    }
                    crate::stats::set::SetSource::RawDir => set.path.join(format!("{bench}.txt")),
                    crate::stats::set::SetSource::SummarizeJson => set.path.clone(),
                };
                return Err(Error::input(format!(
                    "{}: counts no instruction execution (no `opcode[...].execution_count` line): the dump lacks its opcode statistics, so nothing could be checked on it",
                    path.display()
                )));
            }
        }
    }
    Ok(())
}

/// The rules the compared data left unchecked, from every (rule index, skip reason) check
/// found in it (`None`: the check was decided). A rule with no check at all is an input
/// error unless `optional` ([`RuleSet::check_patterns`]), and so is data on which no check
/// of any rule was decided: nothing was compared, so nothing may pass.
pub fn unchecked_rules(
    rules: &RuleSet,
    checks: &[(usize, Option<&SkipReason>)],
) -> anyhow::Result<Vec<UncheckedRule>> {
    let count = |i: usize| checks.iter().filter(|(r, _)| *r == i).count();
    rules.check_patterns(|r| {
        let i = rules.rules.iter().position(|x| std::ptr::eq(x, r));
        i.map(count).unwrap_or(0)
    })?;
    if !checks.iter().any(|(_, skipped)| skipped.is_none()) {
        let first = checks.iter().find_map(|(_, why)| *why);
        return Err(Error::input(format!(
            "{}: no rule checked anything on the compared data ({} check(s), every one skipped{}): nothing was compared, so nothing can pass; lower `min_count` or compare data the rules reach",
            rules.files.join(", "),
            checks.len(),
            first.map(|w| format!("; first: {w}")).unwrap_or_default()
        ))
        .into());
    }
    let mut out = vec![];
    for (i, rule) in rules.rules.iter().enumerate() {
        let mine: Vec<Option<&SkipReason>> = checks
            .iter()
            .filter(|(r, _)| *r == i)
            .map(|(_, w)| *w)
            .collect();
        if mine.iter().any(Option::is_none) {
            continue;
        }
        out.push(UncheckedRule {
            rule: rule.name.clone(),
            severity: rule.severity,
            optional: rule.optional,
            skipped: mine.len(),
            reason: mine
                .first()
                .copied()
                .flatten()
                .cloned()
                .unwrap_or(SkipReason::NoMetricMatched),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> RuleSet {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.toml");
        std::fs::write(&p, text).unwrap();
        let mut set = RuleSet::load(&p).unwrap();
        set.files = vec!["r.toml".into()];
        for r in &mut set.rules {
            r.origin.file = "r.toml".into();
        }
        set
    }

    #[test]
    fn a_rule_skipped_everywhere_is_listed_and_blocks_a_pass_unless_optional() {
        let set = rules(
            "[[rule]]\nname = \"a\"\nmetric = \"x\"\nmax = 1\n[[rule]]\nname = \"b\"\nmetric = \"y\"\nmax = 1\nmin_count = 1e300\n[[rule]]\nname = \"c\"\nmetric = \"z\"\nmax = 1\noptional = true\n",
        );
        let below = SkipReason::BelowMinCount {
            ratio: false,
            support: 5.0,
            min_count: 1e300,
        };
        let checks = [(0, None), (1, Some(&below))];
        let u = unchecked_rules(&set, &checks).unwrap();
        assert_eq!(u.len(), 2, "{u:?}");
        assert_eq!((u[0].rule.as_str(), u[0].skipped), ("b", 1));
        assert!(u[0].blocks_pass(false));
        assert_eq!((u[1].rule.as_str(), u[1].skipped), ("c", 0));
        assert!(!u[1].blocks_pass(true));
        // Nothing decided at all: an input error naming the rules file.
        let e = unchecked_rules(&set, &[(1, Some(&below)), (0, Some(&below))]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("r.toml: no rule checked anything"),
            "{e}"
        );
        // A non-optional rule with no check: the pattern error.
        let e = unchecked_rules(&set, &[(0, None)]).unwrap_err();
        assert!(e.to_string().contains("rule[1].metric: pattern"), "{e}");
    }
}
