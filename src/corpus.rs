//! TODO: corpus.

use crate::cli::CorpusArgs;

pub fn cmd_corpus(_args: &CorpusArgs) -> anyhow::Result<i32> {
    crate::not_yet("corpus")
}
