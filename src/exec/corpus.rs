//! The benchmark corpus: `corpus/corpus.toml` + programs + driver, embedded in the binary and materialized in the cache.

use crate::error::Error;
use crate::exec::cache;

/// Name of the equivalent-mutant list in the built-in corpus directory (not a corpus input:
/// editing it does not change the corpus hash, so results stay resumable).
/// (It lives in the corpus directory, so the corpus loader knows to skip it.)
pub const EQUIVALENTS_FILE: &str = "equivalent-mutants.toml";
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};

/// Manifest file name inside a corpus directory.
pub const CORPUS_MANIFEST: &str = "corpus.toml";
/// The driver that runs one benchmark with stats on around its workload.
pub const DRIVER: &str = "driver.py";

/// The shipped corpus, compiled in so the binary works from anywhere.
const EMBEDDED: &[(&str, &str)] = &[
    (CORPUS_MANIFEST, include_str!("../../corpus/corpus.toml")),
    (DRIVER, include_str!("../../corpus/driver.py")),
    ("attrs.py", include_str!("../../corpus/attrs.py")),
    ("calls.py", include_str!("../../corpus/calls.py")),
    ("arith.py", include_str!("../../corpus/arith.py")),
    ("subscr.py", include_str!("../../corpus/subscr.py")),
    ("iterate.py", include_str!("../../corpus/iterate.py")),
    ("truth.py", include_str!("../../corpus/truth.py")),
    (
        "asyncio_send.py",
        include_str!("../../corpus/asyncio_send.py"),
    ),
    ("supers.py", include_str!("../../corpus/supers.py")),
    ("objects.py", include_str!("../../corpus/objects.py")),
    ("callshapes.py", include_str!("../../corpus/callshapes.py")),
    ("failures.py", include_str!("../../corpus/failures.py")),
    ("declines.py", include_str!("../../corpus/declines.py")),
    ("oddities.py", include_str!("../../corpus/oddities.py")),
    ("versions.py", include_str!("../../corpus/versions.py")),
    ("subclasses.py", include_str!("../../corpus/subclasses.py")),
    ("limits.py", include_str!("../../corpus/limits.py")),
    ("polymorph.py", include_str!("../../corpus/polymorph.py")),
];

/// One benchmark of the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benchmark {
    pub name: String,
    /// Program file, relative to the corpus directory.
    pub file: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// Seconds before the run is killed and recorded as a timeout.
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    /// Specialization families it exercises.
    #[serde(default)]
    pub tags: Vec<String>,
}

fn default_timeout() -> f64 {
    120.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    #[serde(default)]
    bench: Vec<Benchmark>,
}

/// What runs the benchmarks.
#[derive(Clone, Debug, PartialEq)]
pub enum CorpusKind {
    /// Our programs through `driver.py`.
    Programs,
    /// pyperformance benchmarks through its `pystats` hook (names; empty = its default set).
    Pyperformance(Vec<String>),
}

/// A loaded corpus, ready to run.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub kind: CorpusKind,
    /// Directory holding the manifest, the driver and the programs.
    pub dir: PathBuf,
    pub benchmarks: Vec<Benchmark>,
    /// Hash of every file the run depends on (manifest, driver, programs).
    pub hash: String,
}

impl Corpus {
    /// Loads `spec`: `builtin`, a directory with a corpus.toml, or `pyperformance[:a,b]`.
    pub fn load(spec: &str, cache_dir: Option<&Path>) -> anyhow::Result<Corpus> {
        if let Some(rest) = spec.strip_prefix("pyperformance") {
            let names: Vec<String> = match rest.strip_prefix(':') {
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
                None if rest.is_empty() => vec![],
                None => {
                    return Err(Error::input(format!(
                        "--corpus {spec:?}: expected `pyperformance` or `pyperformance:NAME,...`"
                    ))
                    .into())
                }
            };
            for n in &names {
                crate::stats::set::valid_benchmark_name(n).map_err(|why| {
                    Error::input(format!(
                        "--corpus {}: benchmark name {}: {why}",
                        crate::output::quote(spec.as_bytes()),
                        crate::output::quote(n.as_bytes())
                    ))
                })?;
            }
            let mut h = Sha256::new();
            h.update(b"pyperformance\n");
            h.update(names.join(",").as_bytes());
            return Ok(Corpus {
                kind: CorpusKind::Pyperformance(names.clone()),
                dir: PathBuf::new(),
                benchmarks: names
                    .iter()
                    .map(|n| Benchmark {
                        name: n.clone(),
                        file: String::new(),
                        args: vec![],
                        timeout: 1800.0,
                        tags: vec![],
                    })
                    .collect(),
                hash: hex::encode(h.finalize())[..16].to_string(),
            });
        }
        let dir = if spec == "builtin" {
            materialize_builtin(cache_dir)?
        } else {
            PathBuf::from(spec)
        };
        Corpus::from_dir(&dir)
    }

    /// Reads a corpus directory (manifest + driver + programs).
    pub fn from_dir(dir: &Path) -> anyhow::Result<Corpus> {
        // Absolute, because runs use it both as their working directory and in arguments.
        let dir = &dir.canonicalize().map_err(|e| {
            Error::input(format!(
                "{}: cannot open corpus directory: {e}",
                dir.display()
            ))
        })?;
        let manifest = dir.join(CORPUS_MANIFEST);
        let text = crate::text::read_regular_input(&manifest).map_err(|e| {
            Error::input(format!(
                "{}: cannot read corpus manifest: {e}",
                manifest.display()
            ))
        })?;
        let benchmarks = parse_manifest(&text, &manifest)?;
        let mut files: Vec<&str> = vec![CORPUS_MANIFEST];
        for (i, b) in benchmarks.iter().enumerate() {
            files.push(&b.file);
            if !dir.join(&b.file).is_file() {
                let line = text
                    .find(&format!("\"{}\"", b.file))
                    .map(|at| text[..at].matches('\n').count() + 1)
                    .unwrap_or(0);
                return Err(Error::at_line(
                    &manifest,
                    line,
                    format!(
                        "bench[{i}].file: {} (of bench `{}`) is not a file",
                        dir.join(&b.file).display(),
                        b.name
                    ),
                )
                .into());
            }
        }
        let driver = dir.join(DRIVER);
        if !driver.is_file() {
            return Err(Error::input(format!("{}: corpus has no {DRIVER}", dir.display())).into());
        }
        files.push(DRIVER);
        files.sort();
        files.dedup();
        let mut h = Sha256::new();
        for f in files {
            let bytes = fs::read(dir.join(f))
                .map_err(|e| Error::input(format!("{}: {e}", dir.join(f).display())))?;
            h.update(f.as_bytes());
            h.update(b"\0");
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
        Ok(Corpus {
            kind: CorpusKind::Programs,
            dir: dir.to_path_buf(),
            benchmarks,
            hash: hex::encode(h.finalize())[..16].to_string(),
        })
    }

    /// The benchmarks matching any of `globs` (all when empty); a glob matching nothing is an error.
    pub fn select(&self, globs: &[String]) -> anyhow::Result<Vec<Benchmark>> {
        if globs.is_empty() {
            return Ok(self.benchmarks.clone());
        }
        let mut matchers = vec![];
        for g in globs {
            let m = crate::text::glob(g)
                .map_err(|e| {
                    Error::input(format!("--bench {}: {e}", crate::text::quote(g.as_bytes())))
                })?
                .compile_matcher();
            if !self.benchmarks.iter().any(|b| m.is_match(&b.name)) {
                let names: Vec<&str> = self.benchmarks.iter().map(|b| b.name.as_str()).collect();
                return Err(Error::input(format!(
                    "--bench {g:?} matches no benchmark (have: {})",
                    names.join(", ")
                ))
                .into());
            }
            matchers.push(m);
        }
        Ok(self
            .benchmarks
            .iter()
            .filter(|b| matchers.iter().any(|m| m.is_match(&b.name)))
            .cloned()
            .collect())
    }
}

/// The longest timeout a benchmark may ask for.
pub const MAX_TIMEOUT_SECONDS: f64 = 86_400.0;

/// Parses corpus.toml, naming the line of any error.
pub fn parse_manifest(text: &str, path: &Path) -> anyhow::Result<Vec<Benchmark>> {
    let file: CorpusFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(0);
        Error::at_line(path, line, crate::text::cap(e.message()))
    })?;
    let line_of = |needle: &str| {
        text.find(needle)
            .map(|i| text[..i].matches('\n').count() + 1)
            .unwrap_or(0)
    };
    let mut seen = std::collections::HashSet::new();
    for (i, b) in file.bench.iter().enumerate() {
        let at = line_of(&format!("\"{}\"", b.name));
        if let Err(why) = crate::stats::set::valid_benchmark_name(&b.name) {
            return Err(Error::at_line(
                path,
                at,
                format!(
                    "bench[{i}].name {}: {why} (it names the benchmark's dump file)",
                    crate::output::quote(b.name.as_bytes())
                ),
            )
            .into());
        }
        if !seen.insert(b.name.clone()) {
            return Err(Error::at_line(
                path,
                at,
                format!(
                    "bench[{i}].name {} is defined twice",
                    crate::text::quote(b.name.as_bytes())
                ),
            )
            .into());
        }
        if !(b.timeout.is_finite() && b.timeout > 0.0 && b.timeout <= MAX_TIMEOUT_SECONDS) {
            return Err(Error::at_line(
                path,
                at,
                format!(
                    "bench[{i}].timeout {}: expected seconds, more than 0 and at most {MAX_TIMEOUT_SECONDS} (a day)",
                    b.timeout
                ),
            )
            .into());
        }
    }
    if file.bench.is_empty() {
        return Err(Error::at_line(path, 1, "no [[bench]] entries").into());
    }
    Ok(file.bench)
}

/// Writes the embedded corpus into `<cache>/corpus/<hash>/` (once, atomically) and returns it.
pub fn materialize_builtin(cache_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let mut h = Sha256::new();
    for (name, text) in EMBEDDED {
        h.update(name.as_bytes());
        h.update(b"\0");
        h.update(text.as_bytes());
    }
    let key = hex::encode(h.finalize())[..16].to_string();
    let root = cache::cache_root(cache_dir).join("corpus");
    let dest = root.join(&key);
    if dest.join(CORPUS_MANIFEST).is_file() {
        return Ok(dest);
    }
    fs::create_dir_all(&root)?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-corpus-")
        .tempdir_in(&root)?
        .keep();
    for (name, text) in EMBEDDED {
        fs::write(tmp.join(name), text)?;
    }
    if let Err(e) = crate::output::publish_dir(&tmp, &dest) {
        // Another process published the same content first.
        let _ = fs::remove_dir_all(&tmp);
        if !dest.join(CORPUS_MANIFEST).is_file() {
            return Err(e.into());
        }
    }
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_corpus_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        for entry in fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            // The equivalent-mutant list is read by `mutants`, not the runner.
            if (name.ends_with(".py") || name.ends_with(".toml")) && name != EQUIVALENTS_FILE {
                assert!(
                    EMBEDDED.iter().any(|(n, _)| *n == name),
                    "corpus/{name} is not in corpus::EMBEDDED"
                );
            }
        }
        let c = Corpus::from_dir(&dir).unwrap();
        assert!(c.benchmarks.len() >= 8);
    }

    #[test]
    fn bad_manifest_names_the_line() {
        let text = "[[bench]]\nname = \"a\"\nfile = \"a.py\"\ntimeout = \"x\"\n";
        let e = parse_manifest(text, Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().starts_with("c.toml:4:"), "{e}");
        let dup =
            "[[bench]]\nname = \"a\"\nfile = \"a.py\"\n[[bench]]\nname = \"a\"\nfile = \"b.py\"\n";
        let e = parse_manifest(dup, Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().contains("defined twice"), "{e}");
    }
}
