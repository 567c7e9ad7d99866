//! A "stats set": repeats x benchmarks of raw dumps, loaded from a directory or a summarize_stats JSON.

use crate::error::Error;
use crate::metadata::Metadata;
use crate::raw::{parse_dump, parse_into, Counters, MalformedLine, ParseOptions};
use anyhow::Context;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of the manifest `run` writes at the root of a set.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Current manifest schema.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

/// What produced a set: written by `run`, read back to pair repeats by seed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default)]
    pub interpreter: Option<String>,
    #[serde(default)]
    pub python_version: Option<String>,
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default)]
    pub configure_flags: Vec<String>,
    #[serde(default)]
    pub corpus_hash: Option<String>,
    #[serde(default)]
    pub build_id: Option<String>,
    /// Shard this set holds, `K/N`, when produced with `--shard`.
    #[serde(default)]
    pub shard: Option<String>,
    /// Every benchmark of the run's selection (a shard holds only some of them).
    #[serde(default)]
    pub benchmarks: Vec<String>,
    /// Repeats of the whole run (a shard holds only some of them).
    #[serde(default)]
    pub total_repeats: Option<u32>,
    #[serde(default)]
    pub repeats: Vec<RepeatManifest>,
    /// Failures (crash, timeout, missing dump) recorded by the runner.
    #[serde(default)]
    pub failures: Vec<RunFailure>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RepeatManifest {
    pub name: String,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub benchmarks: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFailure {
    pub repeat: String,
    pub benchmark: String,
    pub reason: String,
}

/// One benchmark's dump within one repeat.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BenchmarkDump {
    pub counters: Counters,
    /// Number of dump files merged in (summarize_stats.py's `__nfiles__`).
    pub files: u64,
}

/// One repeat of the corpus: benchmarks in file-name order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Repeat {
    pub name: String,
    pub seed: Option<u64>,
    pub benchmarks: IndexMap<String, BenchmarkDump>,
}

impl Repeat {
    /// Sum over the repeat's benchmarks.
    pub fn totals(&self) -> Result<Counters, Error> {
        sum_counters(self.benchmarks.values().map(|b| &b.counters))
    }
    pub fn files(&self) -> u64 {
        self.benchmarks.values().map(|b| b.files).sum()
    }
}

/// Where a set came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetSource {
    RawDir,
    SummarizeJson,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StatsSet {
    pub path: PathBuf,
    pub source: SetSource,
    pub repeats: Vec<Repeat>,
    pub manifest: Option<Manifest>,
    /// Metadata carried inside a summarize_stats JSON file.
    pub embedded_metadata: Option<Metadata>,
    pub malformed: Vec<MalformedLine>,
}

fn sum_counters<'a>(items: impl Iterator<Item = &'a Counters>) -> Result<Counters, Error> {
    let mut total = Counters::new();
    for c in items {
        total.merge(c).map_err(|o| {
            Error::input(format!(
                "counter {} overflows 64 bits when summing the set ({} + {}): wrapped counter?",
                o.key, o.current, o.added
            ))
        })?;
    }
    Ok(total)
}

impl StatsSet {
    /// Totals over every repeat and benchmark, like summarize_stats.py over one folder.
    pub fn totals(&self) -> Result<Counters, Error> {
        sum_counters(
            self.repeats
                .iter()
                .flat_map(|r| r.benchmarks.values().map(|b| &b.counters)),
        )
    }
    /// Number of dump files (summarize_stats.py's `__nfiles__`).
    pub fn files(&self) -> u64 {
        self.repeats.iter().map(|r| r.files()).sum()
    }
    /// Benchmark names, in first-seen order across repeats.
    pub fn benchmark_names(&self) -> Vec<String> {
        let mut names: IndexMap<String, ()> = IndexMap::new();
        for r in &self.repeats {
            for b in r.benchmarks.keys() {
                names.insert(b.clone(), ());
            }
        }
        names.into_keys().collect()
    }
    /// True when every repeat carries a seed.
    pub fn has_seeds(&self) -> bool {
        !self.repeats.is_empty() && self.repeats.iter().all(|r| r.seed.is_some())
    }

    /// Loads a set from a directory of dumps (flat, or one subdirectory per repeat)
    /// or from a summarize_stats.py `--json-output` file.
    pub fn load(path: &Path, opts: ParseOptions) -> anyhow::Result<StatsSet> {
        if path.is_file() {
            return load_summarize_json(path);
        }
        if !path.is_dir() {
            return Err(Error::input(format!(
                "{}: no such stats set (expected a directory of dumps or a summarize_stats JSON file)",
                path.display()
            ))
            .into());
        }
        let manifest = read_manifest(path)?;
        let mut set = StatsSet {
            path: path.to_path_buf(),
            source: SetSource::RawDir,
            repeats: vec![],
            manifest,
            embedded_metadata: None,
            malformed: vec![],
        };
        let layout = repeat_layout(path)?;
        for (name, dir, files) in &layout {
            let (repeat, mal) = load_repeat(name, dir, files, opts)?;
            set.repeats.push(repeat);
            set.malformed.extend(mal);
        }
        if let Some(m) = &set.manifest {
            for r in &mut set.repeats {
                r.seed = m
                    .repeats
                    .iter()
                    .find(|rm| rm.name == r.name)
                    .and_then(|rm| rm.seed);
            }
        }
        // Surface a sum overflow at load time, naming the file and line where it happens.
        if let Err(e) = set.totals() {
            let files: Vec<&PathBuf> = layout.iter().flat_map(|(_, _, f)| f).collect();
            return Err(locate_sum_overflow(&files, opts).unwrap_or(e).into());
        }
        Ok(set)
    }
}

/// The repeats of a dump directory: (name, directory, dump files), validated and sorted.
fn repeat_layout(path: &Path) -> anyhow::Result<Vec<(String, PathBuf, Vec<PathBuf>)>> {
    let (dirs, txts) = list_dir(path)?;
    if !dirs.is_empty() && !txts.is_empty() {
        return Err(Error::input(format!(
            "{}: holds both dump files and repeat subdirectories; use one layout",
            path.display()
        ))
        .into());
    }
    if dirs.is_empty() {
        if txts.is_empty() {
            return Err(Error::input(format!(
                "{}: empty stats set (no *.txt dumps)",
                path.display()
            ))
            .into());
        }
        return Ok(vec![(".".to_string(), path.to_path_buf(), txts)]);
    }
    let mut out = vec![];
    for dir in dirs {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let (sub_dirs, sub_txts) = list_dir(&dir)?;
        if let Some(d) = sub_dirs.first() {
            return Err(Error::input(format!(
                "{}: unexpected directory inside a repeat (layout is SET/REPEAT/BENCH.txt)",
                d.display()
            ))
            .into());
        }
        if sub_txts.is_empty() {
            return Err(
                Error::input(format!("{}: repeat has no *.txt dumps", dir.display())).into(),
            );
        }
        out.push((name, dir, sub_txts));
    }
    Ok(out)
}

/// Totals of a set without its per-benchmark counters: what `summarize` needs, loaded
/// in parallel with one accumulator per thread (memory does not grow with the file count).
#[derive(Clone, Debug, PartialEq)]
pub struct SetTotals {
    pub path: PathBuf,
    pub source: SetSource,
    /// Sum over every dump, keys in first-seen order over repeats and files (sorted by name).
    pub totals: Counters,
    pub files: u64,
    pub repeats: usize,
    pub manifest: Option<Manifest>,
    pub embedded_metadata: Option<Metadata>,
    pub malformed: Vec<MalformedLine>,
}

/// One thread's share of a parallel load: a contiguous run of files.
#[derive(Default)]
struct Accumulator {
    totals: Counters,
    malformed: Vec<MalformedLine>,
    buf: Vec<u8>,
}

impl SetTotals {
    /// Summary of an already loaded set.
    pub fn from_set(set: &StatsSet) -> Result<SetTotals, Error> {
        Ok(SetTotals {
            path: set.path.clone(),
            source: set.source.clone(),
            totals: set.totals()?,
            files: set.files(),
            repeats: set.repeats.len(),
            manifest: set.manifest.clone(),
            embedded_metadata: set.embedded_metadata.clone(),
            malformed: set.malformed.clone(),
        })
    }

    /// Loads only the totals of the set at `path` (same layouts and errors as [`StatsSet::load`]).
    pub fn load(path: &Path, opts: ParseOptions) -> anyhow::Result<SetTotals> {
        use rayon::prelude::*;
        if !path.is_dir() {
            return Ok(SetTotals::from_set(&StatsSet::load(path, opts)?)?);
        }
        let manifest = read_manifest(path)?;
        let layout = repeat_layout(path)?;
        let files: Vec<&PathBuf> = layout.iter().flat_map(|(_, _, f)| f).collect();
        // Contiguous chunks folded and reduced in order keep the sequential first-seen key order.
        // One chunk per thread: every chunk builds its own map of all the keys it meets, so
        // fewer chunks mean fewer key allocations. (BASE and HEAD load concurrently, so an
        // idle core still finds work when the other is busy.)
        let per_thread = files.len().div_ceil(rayon::current_num_threads()).max(1);
        let folded = files
            .par_iter()
            .with_min_len(per_thread)
            .try_fold(Accumulator::default, |mut acc, f| -> Result<Accumulator, Error> {
                let buf = std::mem::take(&mut acc.buf);
                let (buf, n) = read_reusing(f, buf).map_err(|e| Error::input(format!("{}: {e}", f.display())))?;
                parse_into(&buf[..n], f, opts, &mut acc.totals, &mut acc.malformed)?;
                acc.buf = buf;
                Ok(acc)
            })
            .try_reduce(Accumulator::default, |mut a, b| {
                if a.totals.is_empty() {
                    return Ok(Accumulator { buf: vec![], ..b });
                }
                a.totals.merge(&b.totals).map_err(|o| {
                    Error::input(format!(
                        "counter {} overflows 64 bits when summing the set ({} + {}): wrapped counter?",
                        o.key, o.current, o.added
                    ))
                })?;
                a.malformed.extend(b.malformed);
                Ok(a)
            });
        let acc = match folded {
            Ok(acc) => acc,
            // Find the exact file and line of a sum overflow with a sequential pass.
            Err(e) => return Err(locate_sum_overflow(&files, opts).unwrap_or(e).into()),
        };
        Ok(SetTotals {
            path: path.to_path_buf(),
            source: SetSource::RawDir,
            totals: acc.totals,
            files: files.len() as u64,
            repeats: layout.len(),
            manifest,
            embedded_metadata: None,
            malformed: acc.malformed,
        })
    }
}

/// Reads `path` into `buf` (kept fully initialised and reused across files, so no size
/// query and no zeroing per file); returns the buffer and the number of bytes read.
fn read_reusing(path: &Path, mut buf: Vec<u8>) -> std::io::Result<(Vec<u8>, usize)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    if buf.is_empty() {
        buf.resize(256 * 1024, 0);
    }
    let mut n = 0;
    loop {
        if n == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match file.read(&mut buf[n..]) {
            Ok(0) => return Ok((buf, n)),
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Re-reads `files` in order into one sum; returns the error naming the file and line where
/// the first failure (a sum overflow, say) happens.
fn locate_sum_overflow(files: &[&PathBuf], opts: ParseOptions) -> Option<Error> {
    let mut totals = Counters::new();
    let mut malformed = vec![];
    for f in files {
        let bytes = std::fs::read(f).ok()?;
        if let Err(e) = parse_into(&bytes, f, opts, &mut totals, &mut malformed) {
            return Some(e);
        }
    }
    None
}

/// Subdirectories and `*.txt` files of `dir`, sorted by name (so loading is deterministic).
fn list_dir(dir: &Path) -> anyhow::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut dirs = vec![];
    let mut txts = vec![];
    let rd = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read directory", dir.display()))
        .map_err(|e| Error::input(format!("{e:#}")))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::input(format!("{}: {e}", dir.display())))?;
        let p = entry.path();
        // Hidden entries (.git, editor files) are never repeats or dumps.
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // file_type() needs no extra stat; symlinks are resolved only when met.
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => p.is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => p.is_dir(),
        };
        if is_dir {
            dirs.push(p);
        } else if p.extension().is_some_and(|e| e == "txt") {
            txts.push(p);
        }
    }
    dirs.sort();
    txts.sort();
    Ok((dirs, txts))
}

fn load_repeat(
    name: &str,
    dir: &Path,
    files: &[PathBuf],
    opts: ParseOptions,
) -> anyhow::Result<(Repeat, Vec<MalformedLine>)> {
    use rayon::prelude::*;
    let parsed: Vec<_> = files
        .par_iter()
        .map(|f| -> Result<_, Error> {
            let bytes =
                std::fs::read(f).map_err(|e| Error::input(format!("{}: {e}", f.display())))?;
            Ok((f, parse_dump(&bytes, f, opts)?))
        })
        .collect::<Result<_, _>>()?;
    let mut repeat = Repeat {
        name: name.to_string(),
        seed: None,
        benchmarks: IndexMap::new(),
    };
    let mut malformed = vec![];
    for (f, dump) in parsed {
        let bench = f.file_stem().unwrap().to_string_lossy().to_string();
        malformed.extend(dump.malformed);
        repeat.benchmarks.insert(
            bench,
            BenchmarkDump {
                counters: dump.counters,
                files: 1,
            },
        );
    }
    let _ = dir;
    Ok((repeat, malformed))
}

fn read_manifest(dir: &Path) -> anyhow::Result<Option<Manifest>> {
    let p = dir.join(MANIFEST_FILE);
    if !p.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&p).map_err(|e| Error::input(format!("{}: {e}", p.display())))?;
    let m: Manifest =
        serde_json::from_str(&text).map_err(|e| Error::at_line(&p, e.line(), e.to_string()))?;
    Ok(Some(m))
}

/// Loads summarize_stats.py `--json-output`: counters plus `_specialized_instructions`,
/// `_stats_defines`, `_defines` and `__nfiles__`.
fn load_summarize_json(path: &Path) -> anyhow::Result<StatsSet> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::at_line(path, e.line(), format!("not valid JSON: {e}")))?;
    let obj = value.as_object().ok_or_else(|| {
        Error::input(format!(
            "{}: expected a JSON object of counters",
            path.display()
        ))
    })?;
    let mut counters = Counters::new();
    let mut nfiles = 1;
    for (k, v) in obj {
        match k.as_str() {
            "_specialized_instructions" | "_stats_defines" | "_defines" => continue,
            "__nfiles__" => {
                nfiles = v.as_u64().ok_or_else(|| {
                    Error::input(format!(
                        "{}: key `__nfiles__`: expected an integer",
                        path.display()
                    ))
                })?;
                continue;
            }
            _ => {}
        }
        let n = v.as_u64().ok_or_else(|| {
            Error::input(format!(
                "{}: key `{k}`: expected a non-negative integer, found {v}",
                path.display()
            ))
        })?;
        counters.set(&crate::raw::normalize_key(k), n);
    }
    let embedded_metadata = Metadata::from_summarize_json(obj)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    let mut benchmarks = IndexMap::new();
    benchmarks.insert(
        "all".to_string(),
        BenchmarkDump {
            counters,
            files: nfiles,
        },
    );
    Ok(StatsSet {
        path: path.to_path_buf(),
        source: SetSource::SummarizeJson,
        repeats: vec![Repeat {
            name: ".".into(),
            seed: None,
            benchmarks,
        }],
        manifest: None,
        embedded_metadata,
        malformed: vec![],
    })
}

/// One side (`aa-base`, `aa-head`) of the committed real 3.13.5 fixture pair, for unit tests.
#[cfg(test)]
pub(crate) fn real_fixture(side: &str) -> StatsSet {
    StatsSet::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/real-3.13.5")
            .join(side),
        Default::default(),
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::write_dump;
    use proptest::prelude::*;

    fn dump() -> impl Strategy<Value = Vec<(String, u64)>> {
        proptest::collection::vec(("[a-f]{1,3}", 0u64..1000), 1..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The parallel totals-only loader sums like the sequential loader, in the same
        /// first-seen key order (summarize_stats.py's tie order depends on it).
        #[test]
        fn totals_loader_matches_sequential_sum(repeats in proptest::collection::vec(
            proptest::collection::vec(dump(), 1..40), 1..4)) {
            let dir = tempfile::tempdir().unwrap();
            for (r, files) in repeats.iter().enumerate() {
                let rdir = dir.path().join(format!("run-{r}"));
                std::fs::create_dir_all(&rdir).unwrap();
                for (i, kv) in files.iter().enumerate() {
                    let mut text = String::new();
                    for (k, v) in kv {
                        let mut c = Counters::new();
                        c.set(k, *v);
                        text.push_str(&write_dump(&c));
                    }
                    std::fs::write(rdir.join(format!("b{i:03}.txt")), text).unwrap();
                }
            }
            let set = StatsSet::load(dir.path(), ParseOptions::default()).unwrap();
            let totals = SetTotals::load(dir.path(), ParseOptions::default()).unwrap();
            let seq = set.totals().unwrap();
            prop_assert_eq!(
                totals.totals.iter().collect::<Vec<_>>(),
                seq.iter().collect::<Vec<_>>()
            );
            prop_assert_eq!(totals.files, set.files());
            prop_assert_eq!(totals.repeats, set.repeats.len());
        }
    }
}
