//! `pystats-gate summarize SET [HEAD]`: summarize_stats.py's report of one set or a comparison.

use crate::cli::{SummarizeArgs, SummaryFormat as Format};
use crate::stats::metadata::Metadata;
use crate::stats::raw::ParseOptions;
use crate::stats::set::resolve_metadata_totals;
use crate::stats::set::SetTotals;
use crate::stats::summary::{render_json, render_markdown, render_text, summarize_totals};

/// `pystats-gate summarize SET [HEAD]`.
pub fn cmd_summarize(args: &SummarizeArgs) -> anyhow::Result<i32> {
    let opts = ParseOptions {
        allow_malformed: args.input.allow_malformed,
    };
    // Both sides load at once, so an idle core can steal from either.
    let sets: Vec<SetTotals> = match args.sets.as_slice() {
        [base, head] => {
            let (b, h) = rayon::join(
                || SetTotals::load(base, opts),
                || SetTotals::load(head, opts),
            );
            vec![b?, h?]
        }
        many => many
            .iter()
            .map(|p| SetTotals::load(p, opts))
            .collect::<anyhow::Result<_>>()?,
    };
    if let [base, head] = args.sets.as_slice() {
        let shared = crate::stats::set::shared_files_at(base, head);
        if !shared.is_empty() {
            return Err(crate::stats::set::same_input_refusal(
                (base, "base"),
                (head, "head"),
                &shared,
                "comparing data with itself proves nothing",
            )
            .into());
        }
    }
    for s in &sets {
        if let Some(w) = s.manifest.as_ref().and_then(|m| m.failure_warning(&s.path)) {
            eprintln!("{w}");
        }
    }
    let metas: Vec<Metadata> = sets
        .iter()
        .map(|s| resolve_metadata_totals(super::metadata_choice(&args.input), s))
        .collect::<anyhow::Result<_>>()?;
    let doc = summarize_totals(&sets[0], sets.get(1), &metas[0], metas.get(1))?;
    let text = match args.format {
        Format::Markdown => render_markdown(&doc),
        Format::Json => render_json(&doc),
        Format::Text => render_text(&doc),
    };
    match &args.output {
        Some(path) => crate::output::write_file(
            path,
            text.as_bytes(),
            &args.sets.iter().map(|s| s.as_path()).collect::<Vec<_>>(),
            args.force,
        )?,
        None => crate::output::print(&text)?,
    }
    Ok(crate::error::EXIT_PASS)
}
