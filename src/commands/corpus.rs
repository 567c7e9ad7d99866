//! `pystats-gate corpus --list`: the benchmarks of a corpus, with their tags.

use crate::cli::CorpusArgs;
use crate::exec::corpus::{Corpus, CorpusKind};

/// `pystats-gate corpus --list`.
pub fn cmd_corpus(args: &CorpusArgs) -> anyhow::Result<i32> {
    let corpus = Corpus::load(&args.corpus, None)?;
    let width = corpus
        .benchmarks
        .iter()
        .map(|b| b.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    use std::fmt::Write;
    let mut text = String::new();
    match &corpus.kind {
        CorpusKind::Pyperformance(names) if names.is_empty() => {
            text.push_str("pyperformance: its default benchmark set (one dump per benchmark)\n");
        }
        _ => {
            let _ = writeln!(
                text,
                "{:width$}  {:>7}  {:16}  tags",
                "name", "timeout", "file"
            );
            for b in &corpus.benchmarks {
                let _ = writeln!(
                    text,
                    "{:width$}  {:>6}s  {:16}  {}",
                    b.name,
                    b.timeout,
                    b.file,
                    b.tags.join(", ")
                );
            }
        }
    }
    if corpus.kind == CorpusKind::Programs {
        let _ = writeln!(
            text,
            "\n{} benchmarks in {} (corpus hash {})",
            corpus.benchmarks.len(),
            corpus.dir.display(),
            corpus.hash
        );
    }
    crate::output::print(&text)?;
    Ok(crate::error::EXIT_PASS)
}
