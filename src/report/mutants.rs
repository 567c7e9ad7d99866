//! Mutation-testing renderers: the markdown, JSON and text reports, the `--list` listing and progress lines.

use crate::model::mutants::{Mutant, MutantResult, MutantsReport, Outcome, Tally};
use std::fmt::Write;
use std::path::Path;

/// How the reports and messages name an outcome.
pub fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Killed => "killed",
        Outcome::KilledElsewhere => "killed elsewhere",
        Outcome::Crashed => "crashed/timeout",
        Outcome::Survived => "survived",
        Outcome::NotBuilt => "not built",
        Outcome::Equivalent => "equivalent",
    }
}

/// `--list`: one `id<TAB>family<TAB>description` line per mutant, each followed by its diff
/// when one is given.
pub fn render_list(mutants: &[(&Mutant, Option<String>)]) -> String {
    let mut text = String::new();
    for (m, diff) in mutants {
        text.push_str(&format!("{}\t{}\t{}\n", m.id, m.family, m.description));
        if let Some(d) = diff {
            text.push_str(d);
        }
    }
    text
}

/// Progress line after mutant `k` (1-based) of `n` (stderr).
pub fn progress_line(k: usize, n: usize, r: &MutantResult) -> String {
    format!(
        "[{k}/{n}] {} {} ({:.0}s build, {:.0}s run)",
        outcome_label(r.outcome),
        r.mutant.id,
        r.build_seconds,
        r.run_seconds
    )
}

fn with(r: &MutantsReport, o: Outcome) -> impl Iterator<Item = &MutantResult> {
    r.results.iter().filter(move |m| m.outcome == o)
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
    let survivors: Vec<_> = with(r, Outcome::Survived).collect();
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
        let list: Vec<_> = with(r, o).collect();
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
    for m in with(r, Outcome::Survived) {
        let _ = writeln!(s, "survived {}: {}", m.mutant.id, m.mutant.description);
    }
    s
}

/// The report as JSON (pretty, no trailing newline).
pub fn render_json(r: &MutantsReport) -> serde_json::Result<String> {
    serde_json::to_string_pretty(r)
}

/// Writes mutants-report.{md,json,txt} into `dir`.
pub fn write_all(r: &MutantsReport, dir: &Path) -> anyhow::Result<()> {
    for (name, text) in [
        ("mutants-report.md", render_markdown(r)),
        ("mutants-report.json", render_json(r)?),
        ("mutants-report.txt", render_text(r)),
    ] {
        crate::output::write_in_claimed_dir(dir, name, text.as_bytes())?;
    }
    Ok(())
}
