//! Mutation-testing report: tallies computed once, rendered as markdown, JSON and text.

use super::{MutantResult, Outcome, Tally};
use crate::cli::MutantsArgs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// Everything the renderers show (they compute nothing).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MutantsReport {
    pub tool_version: String,
    pub corpus: String,
    pub rules: Option<String>,
    pub overall: Tally,
    /// Killed share of built, non-equivalent mutants (None: nothing scored).
    pub score: Option<f64>,
    pub families: BTreeMap<String, Tally>,
    pub family_scores: BTreeMap<String, Option<f64>>,
    pub operators: BTreeMap<String, Tally>,
    /// Wall time of the mutants run in this invocation (0 when nothing ran).
    pub wall_seconds: f64,
    /// Sum of build and run times of the results (what they cost one core-ish).
    pub build_seconds: f64,
    pub run_seconds: f64,
    /// Mutants per minute of this invocation's wall time (None when nothing ran).
    pub mutants_per_minute: Option<f64>,
    pub results: Vec<MutantResult>,
}

impl MutantsReport {
    pub fn compute(results: Vec<MutantResult>, args: &MutantsArgs, wall: f64) -> MutantsReport {
        let mut overall = Tally::default();
        let mut families: BTreeMap<String, Tally> = BTreeMap::new();
        let mut operators: BTreeMap<String, Tally> = BTreeMap::new();
        let (mut build, mut run) = (0.0, 0.0);
        for r in &results {
            overall.add(r.outcome);
            families
                .entry(r.mutant.family.clone())
                .or_default()
                .add(r.outcome);
            operators
                .entry(r.mutant.operator.key().to_string())
                .or_default()
                .add(r.outcome);
            build += r.build_seconds;
            run += r.run_seconds;
        }
        let ran = results
            .iter()
            .filter(|r| r.outcome != Outcome::Equivalent)
            .count();
        MutantsReport {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            corpus: args.corpus.clone(),
            rules: args.rules.as_ref().map(|p| p.display().to_string()),
            score: overall.score(),
            family_scores: families
                .iter()
                .map(|(k, t)| (k.clone(), t.score()))
                .collect(),
            overall,
            families,
            operators,
            wall_seconds: wall,
            build_seconds: build,
            run_seconds: run,
            mutants_per_minute: (wall > 0.0).then(|| ran as f64 * 60.0 / wall),
            results,
        }
    }

    fn with(&self, o: Outcome) -> impl Iterator<Item = &MutantResult> {
        self.results.iter().filter(move |r| r.outcome == o)
    }
}

fn pct(s: Option<f64>) -> String {
    s.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "n/a".into())
}

fn tally_row(name: &str, t: &Tally) -> String {
    format!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        pct(t.score()),
        t.scored(),
        t.killed,
        t.killed_elsewhere,
        t.crashed,
        t.survived,
        t.not_built,
        t.equivalent
    )
}

/// The markdown report.
pub fn render_markdown(r: &MutantsReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Mutation score: {}\n", pct(r.score));
    let _ = writeln!(
        s,
        "Corpus `{}`; {} mutants: {} killed of {} built and non-equivalent ({} crashed or timed out, counted as killed); {} not built and {} equivalent excluded.\n",
        r.corpus,
        r.overall.total,
        r.overall.all_killed(),
        r.overall.scored(),
        r.overall.crashed,
        r.overall.not_built,
        r.overall.equivalent
    );
    let head = "| | score | scored | killed | killed elsewhere | crashed/timeout | survived | not built | equivalent |\n|---|---|---|---|---|---|---|---|---|\n";
    s.push_str("## Per family\n\n");
    s.push_str(head);
    s.push_str(&tally_row("**all**", &r.overall));
    for (f, t) in &r.families {
        s.push_str(&tally_row(f, t));
    }
    s.push_str("\n## Per operator\n\n");
    s.push_str(head);
    for (f, t) in &r.operators {
        s.push_str(&tally_row(f, t));
    }
    let survivors: Vec<_> = r.with(Outcome::Survived).collect();
    let _ = writeln!(s, "\n## Survivors ({})\n", survivors.len());
    for m in survivors {
        let _ = writeln!(
            s,
            "### `{}` ({})\n\n{}\n\n```diff\n{}```\n",
            m.mutant.id, m.mutant.family, m.mutant.description, m.diff
        );
    }
    for (o, title) in [
        (Outcome::Crashed, "Crashed or timed out (counted as killed)"),
        (Outcome::KilledElsewhere, "Killed elsewhere"),
        (Outcome::NotBuilt, "Not built (excluded)"),
        (Outcome::Equivalent, "Equivalent (excluded)"),
    ] {
        let list: Vec<_> = r.with(o).collect();
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "## {title} ({})\n", list.len());
        for m in list {
            let why = match o {
                Outcome::KilledElsewhere => m.failing_rules.join("; "),
                _ => m.detail.lines().next().unwrap_or("").to_string(),
            };
            let _ = writeln!(
                s,
                "- `{}` ({}): {} — {}",
                m.mutant.id, m.mutant.family, m.mutant.description, why
            );
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "Cost: {:.0} s building, {:.0} s running the corpus over all results; this invocation {:.0} s wall{}.",
        r.build_seconds,
        r.run_seconds,
        r.wall_seconds,
        r.mutants_per_minute
            .map(|m| format!(", {m:.2} mutants/minute"))
            .unwrap_or_default()
    );
    s
}

/// The plain-text report (stdout).
pub fn render_text(r: &MutantsReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "mutation score {} ({} killed of {} scored; {} crashed/timeout; {} survived; {} not built, {} equivalent excluded)",
        pct(r.score),
        r.overall.all_killed(),
        r.overall.scored(),
        r.overall.crashed,
        r.overall.survived,
        r.overall.not_built,
        r.overall.equivalent
    );
    for (f, t) in &r.families {
        let _ = writeln!(
            s,
            "  {f:<18} {:>7}  {}/{} killed, {} survived",
            pct(t.score()),
            t.all_killed(),
            t.scored(),
            t.survived
        );
    }
    for m in r.with(Outcome::Survived) {
        let _ = writeln!(s, "survived {}: {}", m.mutant.id, m.mutant.description);
    }
    s
}

/// Writes mutants-report.{md,json,txt} into `dir`.
pub fn write_all(r: &MutantsReport, dir: &Path) -> anyhow::Result<()> {
    for (name, text) in [
        ("mutants-report.md", render_markdown(r)),
        ("mutants-report.json", serde_json::to_string_pretty(r)?),
        ("mutants-report.txt", render_text(r)),
    ] {
        crate::output::write_in_claimed_dir(dir, name, text.as_bytes())?;
    }
    Ok(())
}
