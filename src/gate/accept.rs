//! Accepting intended changes: `--accept 'RULE[:METRIC-GLOB] because REASON'` and `Pystats-Accept:` commit trailers.
//!
//! An acceptance names a rule (and optionally a glob over the metrics it checks) and says
//! why the change is intended. Violated or inconclusive outcomes it matches no longer fail
//! the gate; they stay in every report with the reason. An acceptance that matches nothing
//! is an input error: a stale or misspelt acknowledgement must not pass silently.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::Command;

/// The commit trailer `gate` reads from the head commit's message.
pub const TRAILER: &str = "Pystats-Accept";
/// Separates the rule (and glob) from the reason.
const BECAUSE: &str = " because ";

/// One acknowledged change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Acceptance {
    pub rule: String,
    /// Glob over metric names (`family.CONTAINS_OP.*`); None accepts every metric of the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    pub reason: String,
    /// Where it came from: `--accept` or `Pystats-Accept trailer of <commit>`.
    pub source: String,
    /// Outcomes it accepted (filled by [`apply`]).
    #[serde(default)]
    pub matched: usize,
}

impl Acceptance {
    /// Parses `RULE[:METRIC-GLOB] because REASON`; `source` names where the text came from.
    pub fn parse(spec: &str, source: &str) -> Result<Acceptance, Error> {
        let bad = |why: &str| {
            Error::input(format!(
                "{source} {}: {why} (expected `RULE[:METRIC-GLOB] because REASON`, e.g. `family-success-ratio:family.CONTAINS_OP.* because CONTAINS_OP no longer specializes on purpose`)",
                crate::output::quote(spec.as_bytes())
            ))
        };
        let (target, reason) = spec
            .split_once(BECAUSE)
            .ok_or_else(|| bad("a reason is required"))?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(bad("the reason is empty"));
        }
        let (rule, metric) = match target.trim().split_once(':') {
            Some((r, m)) => (r.trim(), Some(m.trim())),
            None => (target.trim(), None),
        };
        if rule.is_empty() || rule.contains(char::is_whitespace) {
            return Err(bad("expected a rule name before `because`"));
        }
        if let Some(m) = metric {
            if m.is_empty() {
                return Err(bad("empty metric glob after `:`"));
            }
            crate::text::glob(m).map_err(|e| {
                bad(&format!(
                    "metric: {e}: {}",
                    crate::text::quote(m.as_bytes())
                ))
            })?;
        }
        Ok(Acceptance {
            rule: rule.to_string(),
            metric: metric.map(str::to_string),
            reason: reason.to_string(),
            source: source.to_string(),
            matched: 0,
        })
    }

    /// `RULE[:GLOB]`, as written.
    pub fn target(&self) -> String {
        match &self.metric {
            Some(m) => format!("{}:{m}", self.rule),
            None => self.rule.clone(),
        }
    }

    /// True when it covers `rule` on `metric` (of `benchmark`, for per-benchmark rules: the
    /// glob may also name `bench.<name>.<metric>`).
    pub fn matches(&self, rule: &str, metric: &str, benchmark: Option<&str>) -> bool {
        if rule != self.rule {
            return false;
        }
        let Some(glob) = &self.metric else {
            return true;
        };
        let m = crate::text::glob(glob)
            .expect("validated")
            .compile_matcher();
        m.is_match(metric)
            || benchmark.is_some_and(|b| {
                m.is_match(format!(
                    "{}{b}.{metric}",
                    crate::gate::metrics::BENCH_PREFIX
                ))
            })
    }
}

/// Parses every `--accept` value.
pub fn parse_all(specs: &[String]) -> Result<Vec<Acceptance>, Error> {
    specs
        .iter()
        .map(|s| Acceptance::parse(s, "--accept"))
        .collect()
}

/// The `Pystats-Accept:` trailers of `rev`'s commit message in `repo` (folded lines unfolded).
pub fn from_commit(repo: &Path, rev: &str) -> anyhow::Result<Vec<Acceptance>> {
    // `git log --output=FILE` would write (clobber) FILE: a revision is never an option.
    if rev.starts_with('-') {
        return Err(Error::input(format!(
            "--head {}: not a revision (it starts with `-`)",
            crate::output::quote(rev.as_bytes())
        ))
        .into());
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "log",
            "-1",
            &format!("--format=%H%n%(trailers:key={TRAILER},valueonly,unfold)"),
            rev,
            "--",
        ])
        .output()
        .map_err(|e| Error::input(format!("running git in {}: {e}", repo.display())))?;
    if !out.status.success() {
        return Err(Error::input(format!(
            "reading the commit message of {rev} in {}: {}",
            repo.display(),
            crate::text::cap(String::from_utf8_lossy(&out.stderr).trim())
        ))
        .into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let commit = lines.next().unwrap_or(rev);
    let source = format!("{TRAILER} trailer of {}", &commit[..commit.len().min(12)]);
    Ok(lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Acceptance::parse(l, &source))
        .collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rule_glob_and_reason() {
        let a = Acceptance::parse(
            "family-success-ratio:family.CONTAINS_OP.* because removed on purpose",
            "--accept",
        )
        .unwrap();
        assert_eq!(a.rule, "family-success-ratio");
        assert_eq!(a.metric.as_deref(), Some("family.CONTAINS_OP.*"));
        assert_eq!(a.reason, "removed on purpose");
        let a = Acceptance::parse("gc-collections because new GC heuristic", "--accept").unwrap();
        assert_eq!(a.metric, None);
        assert_eq!(a.target(), "gc-collections");
    }

    #[test]
    fn reason_is_required_and_globs_are_checked() {
        for bad in [
            "family-success-ratio:family.X.*",
            "family-success-ratio because   ",
            " because why",
            "rule:family.[ because x",
            "rule: because x",
        ] {
            let e = Acceptance::parse(bad, "--accept").unwrap_err().to_string();
            assert!(e.starts_with("--accept "), "{bad}: {e}");
            assert!(
                e.contains("RULE[:METRIC-GLOB] because REASON"),
                "{bad}: {e}"
            );
        }
    }
}
