//! Command-line interface definition (clap derive). Each subcommand's flags live here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "pystats-gate",
    version,
    about = "Gate CPython changes on specializing-interpreter statistics (--enable-pystats)",
    after_help = "Exit codes: 0 pass, 1 gate failed, 2 usage, input or output error, 3 build or run failure, 4 internal error (a bug in pystats-gate: please report it). Every command's --help lists its own; 4 can happen in any."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Markdown/JSON/text report of one stats set, or of BASE vs HEAD (like summarize_stats.py).
    #[command(
        after_help = "Exit codes: 0 report written; 2 usage, input or output error (the message names the file and line; an existing -o FILE without --force, or an output that is an input); 3 a dump the set's manifest lists is gone (no failure recorded for it); 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Summarize(SummarizeArgs),
    /// List metric names and values of a stats set.
    #[command(
        after_help = "Exit codes: 0 metrics listed; 2 usage, input or output error (a --filter matching nothing included); 3 a dump the set's manifest lists is gone (no failure recorded for it); 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Metrics(MetricsArgs),
    /// Compare BASE and HEAD sets with statistics and rules; exit 1 on regression.
    #[command(
        after_help = "Exit codes: 0 pass (inconclusive rules pass unless --strict); 1 gate failed (a fail-level rule violated, or a warn-level one with --fail-on-warn, or inconclusive with --strict); 2 usage or input error, including a benchmark or repeat missing on one side (see --allow-missing-benchmarks), a rule that finds no metric in the compared data (unless `optional = true`), no rule deciding anything, base and head being the same files (see --allow-same-input), an existing -o FILE without --force and an output that is an input (also a hard link or symlink to one); 3 a set's manifest records a crash, timeout or missing dump; 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Compare(CompareArgs),
    /// Verify invariants that real pystats data must satisfy.
    #[command(
        after_help = "Exit codes: 0 every invariant holds; 1 an invariant is violated; 2 usage or input error; 3 a set's manifest records a crash, timeout or missing dump; 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Check(CheckArgs),
    /// Build an --enable-pystats interpreter for a revision (cached, incremental).
    #[command(
        after_help = "Exit codes: 0 built (prints the interpreter path); 2 usage or input error (unknown revision, ...); 3 CPython did not build (the log's tail is shown); 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Build(BuildArgs),
    /// Show the benchmark corpus.
    #[command(
        after_help = "Exit codes: 0 listed; 2 bad corpus (the message names corpus.toml and the line); 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Corpus(CorpusArgs),
    /// Run the corpus on an interpreter, writing a stats set.
    #[command(
        after_help = "Exit codes: 0 every run wrote a usable dump; 2 usage or input error; 3 a run crashed, timed out, wrote no dump or an unusable one (not a regular file, a malformed or cut line, no counter, stray files beside it), or the interpreter's start-up probe failed or hung (the set is still written, its manifest records the failure); 130 interrupted (the unfinished set is removed); 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Run(RunArgs),
    /// Build base and head, run the corpus on each, compare: the main job.
    #[command(
        after_help = "Exit codes: 0 pass; 1 gate failed; 2 usage or input error; 3 build or run failure (a crash, timeout or missing dump on either side); 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Gate(GateArgs),
    /// The main job on an embedded default: CPython 3.13 source + a shipped regression patch.
    #[command(
        after_help = "Exit codes: 0 pass; 1 gate failed (what the default `regression` head shows); 2 usage or input error; 3 build or run failure; 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Demo(DemoArgs),
    /// Find the first commit at which the gate fails.
    #[command(
        after_help = "Exit codes: 0 first bad commit found; 2 usage or input error, or the bad end passes; 3 ambiguous because of skipped (unbuildable or failing) commits; 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Bisect(BisectArgs),
    /// One step for `git bisect run` (exit 0 good, 1 bad, 125 skip).
    #[command(
        after_help = "Exit codes: 0 good; 1 bad; 125 skip (does not build, or stays inconclusive); 128 abort the bisection (a problem that is not the tested commit's fault, since `git bisect run` reads 2 and 3 as bad)."
    )]
    BisectStep(BisectStepArgs),
    /// Combine shard outputs of `run --shard` into one set.
    #[command(
        after_help = "Exit codes: 0 merged; 2 usage or input error (mixed runs, missing or duplicated shards, stray files, an --out that pystats-gate did not write); 3 a shard recorded a failed run (the merged set is written and keeps the failures), or a dump a shard's manifest lists is gone; 130 interrupted (the unfinished set is removed); 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Merge(MergeArgs),
    /// Record and show metric trends over commits.
    #[command(
        after_help = "Exit codes: 0 done; 2 usage, input or output error (an existing -o FILE without --force, an output that is the history or the result, a noise value that is not a finite number); 4 internal error (a bug in pystats-gate: please report it)."
    )]
    History(HistoryArgs),
    /// Print a shell completion script (bash, zsh, fish, ...) to stdout.
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout.
    Manpage(ManpageArgs),
    /// Mutation testing of the specializer: how many specializer changes the corpus catches.
    Mutants(MutantsArgs),
    /// Learn each metric's noise from stats sets of one build (A/A) into a noise file for --noise.
    #[command(
        after_help = "Exit codes: 0 noise file written; 2 usage, input or output error (sets of different revisions, fewer than 3 repeats in all, an existing -o FILE without --force, a noise value that is not a finite number); 3 a build or run failed (--repo), or a set's manifest records a crash, timeout or missing dump; 4 internal error (a bug in pystats-gate: please report it)."
    )]
    Calibrate(CalibrateArgs),
}

impl BuildOpts {
    /// The configure flag `--tier2` stands for.
    pub const TIER2_FLAG: &'static str = "--enable-experimental-jit=interpreter";
    /// Folds `--tier2` into the configure flags (once), so build ids and manifests record it.
    pub fn fold_tier2(&mut self) {
        if self.tier2 && !self.configure_flags.iter().any(|f| f == Self::TIER2_FLAG) {
            self.configure_flags.push(Self::TIER2_FLAG.to_string());
        }
    }
}

impl Cli {
    /// The command's build options, if it builds CPython.
    pub fn build_opts_mut(&mut self) -> Option<&mut BuildOpts> {
        match &mut self.command {
            Command::Build(a) => Some(&mut a.build),
            Command::Gate(a) => Some(&mut a.build),
            Command::Demo(a) => Some(&mut a.build),
            Command::Bisect(a) => Some(&mut a.build),
            Command::BisectStep(a) => Some(&mut a.build),
            Command::Calibrate(a) => Some(&mut a.build),
            _ => None,
        }
    }
}

/// How to read stats sets and which CPython metadata to use.
#[derive(Args, Debug, Clone, Default)]
pub struct InputOpts {
    /// CPython source tree to read metadata from (specialized instructions, failure kinds).
    #[arg(long, value_name = "DIR")]
    pub cpython_src: Option<PathBuf>,
    /// Use the embedded metadata of this Python version (3.12, 3.13, 3.14); default: detect.
    #[arg(long, value_name = "X.Y")]
    pub python_version: Option<String>,
    /// Skip malformed dump lines (they are counted in the report) instead of failing.
    #[arg(long)]
    pub allow_malformed: bool,
}

/// `compare --format`: every report format.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareFormat {
    Markdown,
    Json,
    Text,
    Junit,
    Html,
}

/// `summarize --format`: summarize_stats.py's markdown, or the same tables as JSON or text.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryFormat {
    Markdown,
    Json,
    Text,
}

/// `metrics --format`, `check --format`: a terminal table or JSON.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Text,
    Json,
}

/// `history show --format`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFormat {
    Text,
    Json,
    Html,
}

#[derive(Args, Debug)]
pub struct SummarizeArgs {
    /// One stats set, or BASE and HEAD for a comparative report.
    #[arg(required = true, num_args = 1..=2, value_name = "SET")]
    pub sets: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: SummaryFormat,
    /// Write the report here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing FILE (without it, an existing -o file is refused: pystats-gate
    /// cannot tell a file it wrote from yours). An input is never replaced.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub input: InputOpts,
}

#[derive(Args, Debug)]
pub struct MetricsArgs {
    pub set: PathBuf,
    /// Only metrics whose name matches this glob (e.g. `family.*.miss_ratio`).
    #[arg(long, value_name = "GLOB")]
    pub filter: Option<String>,
    /// Also list per-benchmark metrics (`bench.<name>.` prefix).
    #[arg(long)]
    pub per_benchmark: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: TableFormat,
    #[command(flatten)]
    pub input: InputOpts,
}

/// Options shared by everything that ends in a verdict.
#[derive(Args, Debug, Clone)]
pub struct GateOpts {
    /// Rules file (TOML). Default: the shipped rules/default.toml.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Significance level (family-wise, Holm-corrected).
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Warn-level violations fail the gate too.
    #[arg(long)]
    pub fail_on_warn: bool,
    /// Inconclusive rules fail the gate.
    #[arg(long)]
    pub strict: bool,
    /// Known-exception file for consistency checks (TOML).
    #[arg(long, value_name = "FILE")]
    pub check_exceptions: Option<PathBuf>,
    /// Compare only the benchmarks and repeats both sides have (said loudly in every
    /// report) instead of failing when one side lacks some.
    #[arg(long)]
    pub allow_missing_benchmarks: bool,
    /// Accept an intended change (repeatable): 'RULE[:METRIC-GLOB] because REASON'. Matching
    /// violated or inconclusive outcomes stop failing the gate and are reported as accepted;
    /// an acceptance that matches nothing is an input error.
    #[arg(long, value_name = "'RULE[:GLOB] because REASON'")]
    pub accept: Vec<String>,
    /// Changed metrics listed in reports, biggest first (the rest are counted; all are in
    /// report.json).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub movers: usize,
    /// Benchmarks named per metric in "Moved by" (those moving it by under 1% of the biggest
    /// one are never named).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub attribution: usize,
    /// Size limit of the markdown report (a PR comment), in bytes: whole sections or table
    /// rows that do not fit are left out and named.
    #[arg(long, value_name = "BYTES", default_value_t = 10_000)]
    pub comment_bytes: usize,
    /// Where the full reports are (e.g. the CI run's artifact page), linked from the markdown.
    #[arg(long, value_name = "URL")]
    pub details_url: Option<String>,
    /// Learned noise file (`calibrate`): each metric's learned variance is pooled with its
    /// degrees of freedom into the t test (paired repeats only from a file learned paired;
    /// limits never move), and metrics it saw constant over >= 10 seeds are decided exactly.
    #[arg(long, value_name = "FILE")]
    pub noise: Option<PathBuf>,
}

impl GateOpts {
    /// The files these options read (rules, check exceptions, noise): an output never
    /// replaces one of them.
    pub fn input_files(&self) -> Vec<&std::path::Path> {
        [&self.rules, &self.check_exceptions, &self.noise]
            .into_iter()
            .flatten()
            .map(|p| p.as_path())
            .collect()
    }
}

/// The CLI defaults (alpha 0.05), for callers that build options in code.
impl Default for GateOpts {
    fn default() -> Self {
        GateOpts {
            rules: None,
            alpha: 0.05,
            fail_on_warn: false,
            strict: false,
            check_exceptions: None,
            allow_missing_benchmarks: false,
            accept: vec![],
            movers: 10,
            attribution: 3,
            comment_bytes: 10_000,
            details_url: None,
            noise: None,
        }
    }
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    pub base: PathBuf,
    pub head: PathBuf,
    #[command(flatten)]
    pub gate: GateOpts,
    #[arg(long, value_enum, default_value = "text")]
    pub format: CompareFormat,
    /// Write the report here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing FILE (without it, an existing -o file is refused: pystats-gate
    /// cannot tell a file it wrote from yours). An input is never replaced.
    #[arg(long)]
    pub force: bool,
    /// Write every format (markdown, json, junit, html) into this directory as well.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Show a unified diff of the two single-set summaries.
    #[arg(long)]
    pub diff: bool,
    /// Compare even when base and head are the same files (the same directory by another
    /// path, a symlink, a hard-link copy); the verdict is then at best INCONCLUSIVE.
    #[arg(long)]
    pub allow_same_input: bool,
    #[command(flatten)]
    pub input: InputOpts,
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Stats sets of one build (several A/A sets, or one set with many repeats).
    #[arg(required_unless_present = "repo", conflicts_with = "repo")]
    pub sets: Vec<PathBuf>,
    /// Build REV of this CPython git checkout and run its corpus `--runs` times (A/A).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Revision to calibrate (with --repo).
    #[arg(long, value_name = "REV", default_value = "HEAD", requires = "repo")]
    pub rev: String,
    /// A/A corpus runs (with --repo), each with new seeds: run k uses seeds
    /// (k-1) x repeats + 1 .. k x repeats.
    #[arg(long, value_name = "N", default_value_t = 2, requires = "repo", value_parser = parse_max_repeats)]
    pub runs: u32,
    /// Where the A/A sets are written (with --repo; default: a temporary directory).
    #[arg(long, value_name = "DIR", requires = "repo")]
    pub sets_dir: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunOpts,
    #[command(flatten)]
    pub build: BuildOpts,
    /// Noise file to write (JSON when it ends in .json, else TOML).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Replace an existing FILE (without it, an existing -o file is refused: pystats-gate
    /// cannot tell a file it wrote from yours). An input is never replaced.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub input: InputOpts,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    pub set: PathBuf,
    /// A second set: also check both sides have the same file counts per repeat.
    pub other: Option<PathBuf>,
    /// Known exceptions (TOML). Default: rules/check-exceptions.toml shipped.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: TableFormat,
    /// Check a pair even when both sets are the same files (the pair checks then prove
    /// nothing, and the output says so).
    #[arg(long)]
    pub allow_same_input: bool,
    #[command(flatten)]
    pub input: InputOpts,
}

/// Where builds and caches live and how to configure CPython.
#[derive(Args, Debug, Clone, Default)]
pub struct BuildOpts {
    /// Cache root (default: $PYSTATS_GATE_CACHE or ~/.cache/pystats-gate).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Extra flag for ./configure (repeatable); recorded in the build id.
    #[arg(
        long = "configure-flag",
        value_name = "FLAG",
        allow_hyphen_values = true
    )]
    pub configure_flags: Vec<String>,
    /// Build the Tier 2 (uop) interpreter: adds `--enable-experimental-jit=interpreter` to the
    /// configure flags (no LLVM needed), so the dumps hold real optimizer counters.
    #[arg(long)]
    pub tier2: bool,
    /// Parallel make jobs (default: number of cores).
    #[arg(long, value_parser = parse_jobs)]
    pub make_jobs: Option<usize>,
    /// Plain progress lines only.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// A CPython git checkout.
    #[arg(long, value_name = "DIR", required_unless_present = "source")]
    pub repo: Option<PathBuf>,
    /// Revision to build (with --repo).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,
    /// A plain CPython source tree (no git).
    #[arg(long, value_name = "DIR", conflicts_with = "repo")]
    pub source: Option<PathBuf>,
    #[command(flatten)]
    pub build: BuildOpts,
}

#[derive(Args, Debug)]
pub struct CorpusArgs {
    /// List the benchmarks.
    #[arg(long)]
    pub list: bool,
    /// Corpus: `builtin` (default), a directory with a corpus.toml, or
    /// `pyperformance[:name,...]` (pyperformance's `pystats` hook, one dump per benchmark).
    #[arg(long, default_value = "builtin")]
    pub corpus: String,
}

/// How to run the corpus.
#[derive(Args, Debug, Clone)]
pub struct RunOpts {
    /// Repeats per benchmark; repeat k runs with PYTHONHASHSEED=k. `gate` also takes `auto`
    /// (read as 0): start with 3 paired repeats and add some while rules are inconclusive.
    #[arg(long, default_value_t = 3, value_parser = parse_repeats, value_name = "N|auto")]
    pub repeats: u32,
    /// Parallel runs (default: number of cores).
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Corpus: `builtin` (default), a directory with a corpus.toml, or
    /// `pyperformance[:name,...]` (pyperformance's `pystats` hook, one dump per benchmark).
    #[arg(long, default_value = "builtin")]
    pub corpus: String,
    /// Only benchmarks whose name matches (repeatable glob).
    #[arg(long = "bench", value_name = "GLOB")]
    pub benches: Vec<String>,
    /// Run only shard K of N of (benchmark x repeat).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
}

pub use crate::text::MAX_REPEATS;

/// `--repeats auto` as parsed: [`RunOpts::repeats`] is 0.
pub const REPEATS_AUTO: u32 = 0;

fn parse_repeats(s: &str) -> Result<u32, String> {
    if s == "auto" {
        return Ok(REPEATS_AUTO);
    }
    match s.parse::<u32>() {
        Ok(0) => Err("must be at least 1 (or `auto`, for gate)".into()),
        Ok(n) => parse_max_repeats(s).map(|_| n),
        Err(e) => Err(format!("{e}: expected a number or `auto`")),
    }
}

/// A repeat count up to [`MAX_REPEATS`]: repeats become (benchmark x repeat) work units in
/// memory, and alpha is split over `--max-repeats`' planned looks.
fn parse_max_repeats(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n) if n <= MAX_REPEATS => Ok(n),
        Ok(n) => Err(format!("{n} is more than {MAX_REPEATS}")),
        Err(e) => Err(format!("{e}: expected a number")),
    }
}

/// A number of parallel jobs, 1 to 1024 (each is a thread, a process and its memory:
/// `--jobs 100000000` spawned threads until the machine gave up).
fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n),
        Ok(n) => Err(format!("{n}: expected 1 to 1024")),
        Err(e) => Err(format!("{e}: expected a number")),
    }
}

/// A fraction from 0 to 1 (`--min-score nan` compared false with every score: a pass).
fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        Ok(v) => Err(format!("{v}: expected a fraction from 0 to 1")),
        Err(e) => Err(format!("{e}: expected a number")),
    }
}

/// Seconds: a finite number, not negative.
fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(v) => Err(format!(
            "{v}: expected a finite number of seconds, 0 or more"
        )),
        Err(e) => Err(format!("{e}: expected a number of seconds")),
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The interpreter to run.
    #[arg(long, value_name = "PATH")]
    pub python: PathBuf,
    /// Output stats set directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub run: RunOpts,
    /// Plain progress lines only.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct GateArgs {
    /// The CPython git repository (default with --head-dir: the main working tree of that
    /// directory's repository). `gate` adds one worktree to it (see docs/local-loop.md).
    #[arg(long, value_name = "DIR", required_unless_present = "head_dir")]
    pub repo: Option<PathBuf>,
    #[arg(long, value_name = "REV")]
    pub base: String,
    #[arg(long, value_name = "REV", required_unless_present = "head_dir")]
    pub head: Option<String>,
    /// Gate a working tree as it is, uncommitted changes and untracked files included
    /// (e.g. `.`): it is snapshotted into a commit object (no ref, your index and files are
    /// left alone) and built incrementally.
    #[arg(long, value_name = "DIR", conflicts_with = "head")]
    pub head_dir: Option<PathBuf>,
    /// Do not read `Pystats-Accept:` trailers from the head commit's message.
    #[arg(long)]
    pub no_trailers: bool,
    /// Output directory for reports and raw sets.
    #[arg(long, value_name = "DIR", default_value = "pystats-gate-out")]
    pub out: PathBuf,
    #[command(flatten)]
    pub gate: GateOpts,
    #[command(flatten)]
    pub run: RunOpts,
    #[command(flatten)]
    pub build: BuildOpts,
    /// With `--repeats auto`: most paired repeats per side.
    #[arg(long, value_name = "N", default_value_t = 9, value_parser = parse_max_repeats)]
    pub max_repeats: u32,
    /// With `--repeats auto`: add no more repeats once this many seconds have passed
    /// (the next step's runs, estimated from the last step, must fit too).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub time_budget: Option<f64>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output directory for reports and raw sets.
    #[arg(long, value_name = "DIR", default_value = "pystats-gate-out")]
    pub out: PathBuf,
    /// Which shipped example head to gate: `regression` (default), `comment`, `miss-ratio`,
    /// `wrong-result`.
    #[arg(long, default_value = "regression")]
    pub head: String,
    #[command(flatten)]
    pub gate: GateOpts,
    #[command(flatten)]
    pub run: RunOpts,
    #[command(flatten)]
    pub build: BuildOpts,
}

/// Report formats of `bisect`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BisectFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct BisectArgs {
    /// The git checkout to bisect (never modified: builds use a separate worktree).
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,
    /// A commit that passes (its stats are the baseline of every step).
    #[arg(long, value_name = "REV")]
    pub good: String,
    /// A later commit that fails the gate.
    #[arg(long, value_name = "REV")]
    pub bad: String,
    /// Only these rules decide (repeatable); default: every fail-level rule.
    #[arg(long = "rule", value_name = "NAME")]
    pub rules_only: Vec<String>,
    /// Follow only the first parent of merges.
    #[arg(long)]
    pub first_parent: bool,
    /// Record every step here (JSON lines).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Most repeats to add while a step is inconclusive.
    #[arg(long, default_value_t = 9, value_parser = parse_max_repeats)]
    pub max_repeats: u32,
    #[arg(long, value_enum, default_value = "text")]
    pub format: BisectFormat,
    /// Write the report here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing FILE (without it, an existing -o file is refused: pystats-gate
    /// cannot tell a file it wrote from yours). An input is never replaced.
    #[arg(long)]
    pub force: bool,
    /// Ignore saved progress and start over.
    #[arg(long)]
    pub fresh: bool,
    /// Testing hook: judge each commit by the first word (good/bad/skip/inconclusive) of
    /// this file in the commit's tree instead of building it.
    #[arg(long, value_name = "PATH", hide = true)]
    pub test_verdict_file: Option<String>,
    #[command(flatten)]
    pub gate: GateOpts,
    #[command(flatten)]
    pub run: RunOpts,
    #[command(flatten)]
    pub build: BuildOpts,
}

#[derive(Args, Debug)]
pub struct BisectStepArgs {
    /// The git checkout `git bisect run` works in.
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,
    /// The commit to compare against (its build and stats are cached across steps).
    #[arg(long, value_name = "REV")]
    pub good: String,
    /// Revision to test (default: HEAD of --repo, as `git bisect run` checks it out).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,
    #[arg(long = "rule", value_name = "NAME")]
    pub rules_only: Vec<String>,
    /// Most repeats to add while the step is inconclusive (then exit 125, skip).
    #[arg(long, default_value_t = 9, value_parser = parse_max_repeats)]
    pub max_repeats: u32,
    /// Testing hook, as for `bisect`.
    #[arg(long, value_name = "PATH", hide = true)]
    pub test_verdict_file: Option<String>,
    #[command(flatten)]
    pub gate: GateOpts,
    #[command(flatten)]
    pub run: RunOpts,
    #[command(flatten)]
    pub build: BuildOpts,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Shard sets to combine.
    #[arg(required = true, value_name = "SET")]
    pub sets: Vec<PathBuf>,
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: HistoryAction,
}

#[derive(Subcommand, Debug)]
pub enum HistoryAction {
    /// Append a compare/gate result JSON to a history file.
    Append {
        result: PathBuf,
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Show the trend of selected metrics.
    Show {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        #[arg(long, value_name = "GLOB")]
        metric: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: HistoryFormat,
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace an existing FILE (an input is never replaced).
        #[arg(long)]
        force: bool,
    },
    /// Write a noise file (as `calibrate` does, for --noise) from the recorded means of
    /// the last entries (e.g. a history of main's merges: past bases).
    Noise {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Noise file to write (JSON when it ends in .json, else TOML).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Replace an existing FILE (an input is never replaced).
        #[arg(long)]
        force: bool,
        /// Use the last N entries.
        #[arg(long, value_name = "N", default_value_t = 20)]
        last: usize,
    },
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManpageArgs {
    /// Write one page per command (pystats-gate.1, pystats-gate-gate.1, ...) into this
    /// directory instead of the main page on stdout. The directory must be new, empty, or
    /// written earlier by pystats-gate (it is marked with a .pystats-gate-output file).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct MutantsArgs {
    /// A CPython git checkout (mutants are built in its persistent build worktree).
    #[arg(long, value_name = "DIR", required_unless_present = "merge")]
    pub repo: Option<PathBuf>,
    /// Revision whose specializer is mutated (and the unmutated base).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,
    /// Source file to mutate, relative to the checkout (repeatable).
    #[arg(long = "file", value_name = "PATH", default_values_t = vec!["Python/specialize.c".to_string()])]
    pub files: Vec<String>,
    /// Corpus: `builtin` (default), a directory with a corpus.toml, or `pyperformance[:name,...]`.
    #[arg(long, default_value = "builtin")]
    pub corpus: String,
    /// Rules file (TOML). Default: the shipped rules/default.toml.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Equivalent-mutant list (TOML). Default: the shipped corpus/equivalent-mutants.toml, whose
    /// reasons (sites no Python program reaches) hold for any corpus.
    #[arg(long, value_name = "FILE")]
    pub equivalent: Option<PathBuf>,
    /// Print the mutants (ID, family, description) and exit.
    #[arg(long)]
    pub list: bool,
    /// With --list: print each mutant's diff too.
    #[arg(long)]
    pub diff: bool,
    /// Only mutants whose ID, family or operator matches (repeatable glob).
    #[arg(long = "only", value_name = "GLOB")]
    pub only: Vec<String>,
    /// Run only shard K of N of the mutants.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Output directory: base set, one result file per mutant (a rerun continues), reports.
    #[arg(long, value_name = "DIR", default_value = "pystats-gate-mutants")]
    pub out: PathBuf,
    /// Combine the results of these mutant output directories (shards) into --out; no builds.
    /// (Selecting options would be ignored by a merge, so they are refused with it.)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["list", "diff", "only", "shard"])]
    pub merge: Vec<PathBuf>,
    /// Exit 1 when the score (killed share of built, non-equivalent mutants) is below this.
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    pub min_score: Option<f64>,
    /// Repeats of the corpus per mutant (and for the base).
    #[arg(long, default_value_t = 1, value_parser = parse_max_repeats)]
    pub repeats: u32,
    /// Only corpus benchmarks whose name matches (repeatable glob).
    #[arg(long = "bench", value_name = "GLOB")]
    pub benches: Vec<String>,
    /// Parallel corpus runs (default: number of cores).
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub build: BuildOpts,
}
