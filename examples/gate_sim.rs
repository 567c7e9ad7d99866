//! Simulation benchmark of the gate's error rates under six noise models (run by ci/gate-sim.sh).
//!
//! Dumps: a real stats set of one build (tests/fixtures/gate/whole-process-aa-3.13.5, 12
//! whole-process dumps). Each simulated run takes one of its dumps and moves LOAD_ATTR hits
//! to misses (family and one member, so the consistency checks hold) by the run's noise,
//! drawn from a noise model per (build, seed, run), plus the planted shift in head. The
//! shipped rules fail a family miss ratio up by more than 1 pp: 0 pp is A/A, 1 pp sits on
//! the limit (any failure there is a false failure), 1.25 pp must not pass, 2 pp must fail.
//! Noise files (`--noise`) are learned out of sample: `noise::learn` on 12 runs of a
//! separate calibration build with its own seeds (12 seeds, or 6 seeds run twice for a file
//! learned paired), drawn from the same model (a fresh one per trial, from 16 per model).
//!
//! Speed: every pool dump's metric tables are computed once; moving k counts changes a few
//! metrics linearly in k (numerators and denominators are sums of counts), so a run's tables
//! are the dump's with those metrics set (checked against a full recomputation at start-up).
//! Each trial then calls the gate's own decision ([`decide_tables`]: rule tests, Holm/BH,
//! outcomes, verdict) on them, trials in parallel (rayon).

use pystats_gate::gate::evaluate::decide_tables;
use pystats_gate::gate::metrics::{set_repeat_metrics, MetricValue, RepeatMetrics};
use pystats_gate::gate::noise::{learn, NoiseFile};
use pystats_gate::gate::report_model::{EvalOptions, OutcomeStatus, RuleOutcome, Verdict};
use pystats_gate::gate::sequential::{
    decided_of, freeze_outcomes, next_repeats, open_of, stop_reason, Sequential, Standing, START,
};
use pystats_gate::gate::statistics::ErrorControl;
use pystats_gate::stats::metadata::Metadata;
use pystats_gate::stats::set::{Repeat, StatsSet};
use rayon::prelude::*;
use statrs::distribution::{Beta, ContinuousCDF};

const FAMILIES: [&str; 2] = ["LOAD_ATTR", "LOAD_GLOBAL"];
/// Standard deviation (pp) of the continuous models; half-gap of the seed modes.
const SIGMA: f64 = 0.25;
const MODE: f64 = 0.6;
/// Mode-probability shift: a seed in the low mode is in the high mode in head with this
/// probability, which moves head's mean by 0.5 x SWITCH x 2 MODE (subtracted from the plant,
/// so the mean change is the planted one).
const SWITCH: f64 = 0.4;
/// Builds: base, head, calibration.
const BASE: u64 = 0;
const HEAD: u64 = 1;
const CALIB: u64 = 2;
/// `--repeats auto`'s default --max-repeats.
const AUTO_MAX: usize = 9;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Model {
    Normal,
    Heavy,
    Modes,
    ModeShift,
    Correlated,
    Drift,
}

impl Model {
    fn name(self) -> &'static str {
        match self {
            Model::Normal => "normal (sd 0.25 pp, independent per run)",
            Model::Heavy => "heavy-tailed (Student t3, sd 0.25 pp)",
            Model::Modes => "two seed modes (+-0.6 pp, fixed by the seed)",
            Model::ModeShift => "mode-probability shift (head: low mode -> high w.p. 0.4)",
            Model::Correlated => "correlated (LOAD_GLOBAL moved with LOAD_ATTR, r = 0.8)",
            Model::Drift => "between-build drift (each build's sd x U[1/2, 2] log-uniform)",
        }
    }
}

/// A deterministic hash to (0, 1): the noise of (world, build, seed, run, stream).
fn unit(key: &[u64]) -> f64 {
    let mut z: u64 = 0x9E37_79B9_7F4A_7C15;
    for k in key {
        z = (z ^ k).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Standard normal from two uniforms (Box-Muller).
fn normal(key: &[u64]) -> f64 {
    let mut k = key.to_vec();
    k.push(1);
    let u1 = unit(&k);
    *k.last_mut().unwrap() = 2;
    let u2 = unit(&k);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// One run's deviations (pp) of LOAD_ATTR's and LOAD_GLOBAL's miss ratios in `world`; `run`
/// tells apart two runs of one seed on one build (a calibration learned paired).
fn deviation(model: Model, world: u64, build: u64, seed: u64, run: u64) -> [f64; 2] {
    let noise = |s: u64| normal(&[world, build, seed, run, s]);
    match model {
        Model::Normal => [SIGMA * noise(0), 0.0],
        Model::Heavy => {
            let chi2: f64 = (1..=3).map(|s| noise(s).powi(2)).sum();
            [SIGMA * noise(0) / (chi2 / 3.0).sqrt() / 3f64.sqrt(), 0.0]
        }
        Model::Modes | Model::ModeShift => {
            // The mode is the seed's (all builds agree), except where head switches.
            let high = unit(&[world, seed, 7]) < 0.5;
            let switched =
                model == Model::ModeShift && build == HEAD && unit(&[world, seed, 8]) < SWITCH;
            [if high || switched { MODE } else { -MODE }, 0.0]
        }
        Model::Correlated => {
            let common = noise(0);
            [SIGMA * common, SIGMA * (0.8 * common + 0.6 * noise(1))]
        }
        Model::Drift => {
            let scale = 2f64.powf(2.0 * unit(&[world, build, 9]) - 1.0);
            [SIGMA * scale * noise(0), 0.0]
        }
    }
}

/// Moves `k` counts from `family` hits to misses (negative: back), family and its biggest
/// missing member, in every benchmark.
fn move_misses(r: &mut Repeat, family: &str, k: i64) {
    for b in r.benchmarks.values_mut() {
        let c = &mut b.counters;
        let hit_key = format!("opcode[{family}].specialization.hit");
        let miss_key = format!("opcode[{family}].specialization.miss");
        let Some(member) = member(c, family) else {
            continue;
        };
        let (hit, miss, mm) = (
            c.get(&hit_key) as i64,
            c.get(&miss_key) as i64,
            c.get(&member) as i64,
        );
        let k = k.clamp(-mm.min(miss), hit);
        c.set(&hit_key, (hit - k) as u64);
        c.set(&miss_key, (miss + k) as u64);
        c.set(&member, (mm + k) as u64);
    }
}

/// The member of `family` with the most misses.
fn member(c: &pystats_gate::stats::raw::Counters, family: &str) -> Option<String> {
    c.iter()
        .filter(|(key, _)| {
            key.starts_with(&format!("opcode[{family}_")) && key.ends_with("].specialization.miss")
        })
        .max_by_key(|(_, v)| *v)
        .map(|(key, _)| key.to_string())
}

/// One pool dump: its metric tables, and the metrics moving counts changes, linearly.
struct Dump {
    tables: RepeatMetrics,
    /// (metric, value at 0 moved, d num and d den per moved count of each family).
    moves: Vec<(String, MetricValue, [f64; 2], [f64; 2])>,
    /// Counts that can move per family: [-(misses), hits] (as `move_misses` clamps).
    range: [(i64, i64); 2],
    /// Each family's miss-ratio denominator.
    totals: [f64; 2],
}

impl Dump {
    /// The dump's tables with `k` counts moved per family.
    fn moved(&self, k: [i64; 2]) -> RepeatMetrics {
        let mut t = self.tables.clone();
        let k = [0, 1].map(|f| k[f].clamp(self.range[f].0, self.range[f].1) as f64);
        for (name, v, dn, dd) in &self.moves {
            let num = v.num + k[0] * dn[0] + k[1] * dn[1];
            let den = v.den.map(|d| d + k[0] * dd[0] + k[1] * dd[1]);
            t.set(name, MetricValue { num, den, ..*v });
        }
        t
    }
}

/// The tables of `r` with `k` counts moved per family (the full computation).
fn recompute(
    set: &StatsSet,
    r: &Repeat,
    k: [i64; 2],
    meta: &Metadata,
) -> anyhow::Result<RepeatMetrics> {
    let mut r = r.clone();
    for (f, family) in FAMILIES.iter().enumerate() {
        move_misses(&mut r, family, k[f]);
    }
    let mut s = set.clone();
    s.repeats = vec![r];
    Ok(set_repeat_metrics(&s, meta, true)?.remove(0))
}

/// Derives a dump's linear moves from two recomputations and checks them on a third.
fn dump(set: &StatsSet, i: usize, meta: &Metadata) -> anyhow::Result<Dump> {
    let r = &set.repeats[i];
    let tables = recompute(set, r, [0, 0], meta)?;
    let mut range = [(0, 0); 2];
    for (f, family) in FAMILIES.iter().enumerate() {
        let b = r.benchmarks.values().next().expect("a benchmark");
        let c = &b.counters;
        let mm = member(c, family).map_or(0, |m| c.get(&m) as i64);
        let miss = c.get(&format!("opcode[{family}].specialization.miss")) as i64;
        range[f] = (
            -mm.min(miss),
            c.get(&format!("opcode[{family}].specialization.hit")) as i64,
        );
    }
    let probe = [range[0].1.min(1000), range[1].1.min(1000)];
    let per = [0, 1].map(|f| {
        let mut k = [0, 0];
        k[f] = probe[f];
        recompute(set, r, k, meta)
    });
    let per = [
        per[0].as_ref().map_err(|e| anyhow::anyhow!("{e}"))?,
        per[1].as_ref().map_err(|e| anyhow::anyhow!("{e}"))?,
    ];
    let mut moves = vec![];
    for (name, v) in tables.iter() {
        let mut dn = [0.0; 2];
        let mut dd = [0.0; 2];
        for f in 0..2 {
            let w = per[f]
                .get(&name)
                .ok_or_else(|| anyhow::anyhow!("{name} vanished"))?;
            dn[f] = (w.num - v.num) / probe[f] as f64;
            dd[f] = (w.den.unwrap_or(0.0) - v.den.unwrap_or(0.0)) / probe[f] as f64;
        }
        if dn != [0.0; 2] || dd != [0.0; 2] {
            moves.push((name.into_owned(), v, dn, dd));
        }
    }
    let den = |f: &str| {
        tables
            .get(&format!("family.{f}.miss_ratio"))
            .and_then(|v| v.den)
            .unwrap_or(0.0)
    };
    let d = Dump {
        range,
        totals: [den(FAMILIES[0]), den(FAMILIES[1])],
        tables,
        moves,
    };
    let k = [range[0].1 / 3, -(range[1].0.abs() / 2)];
    let full = recompute(set, r, k, meta)?;
    let fast = d.moved(k);
    for (name, v) in full.iter() {
        let w = fast.get(&name).unwrap_or(v);
        if (v.value() - w.value()).abs() > 1e-9 * v.value().abs().max(1e-12) {
            anyhow::bail!("dump {i}: {name} is not linear in the moved counts: {v:?} vs {w:?}");
        }
    }
    Ok(d)
}

/// The simulation's fixed inputs.
struct Pool {
    dumps: Vec<Dump>,
}

/// A side of runs of `build` in `world`: dump `dumps[k]` with seed `seeds[k]`, run `run`,
/// plus `shift` pp of LOAD_ATTR in every run (rounded down to counts).
struct Side<'a> {
    build: u64,
    dumps: &'a [usize],
    seeds: &'a [u64],
    run: u64,
    shift: f64,
}

impl Pool {
    fn side(&self, model: Model, world: u64, s: &Side) -> Vec<RepeatMetrics> {
        s.dumps
            .iter()
            .zip(s.seeds)
            .map(|(i, seed)| {
                let d = &self.dumps[*i];
                let dev = deviation(model, world, s.build, *seed, s.run);
                let k = [0, 1].map(|f| {
                    let plant = if f == 0 { s.shift } else { 0.0 };
                    (dev[f] / 100.0 * d.totals[f]).round() as i64
                        + (plant / 100.0 * d.totals[f]).floor() as i64
                });
                d.moved(k)
            })
            .collect()
    }

    /// A noise file learned on 12 runs of a calibration build: 12 seeds, or (`paired`) 6
    /// seeds run twice each (a seed keeps its dump: its seed-dependent counters).
    fn calibrate(&self, model: Model, world: u64, paired: bool) -> NoiseFile {
        let n_seeds = if paired { 6 } else { 12 };
        let seeds: Vec<u64> = (0..n_seeds).map(|k| 1_000 + world * 100 + k).collect();
        let dumps: Vec<usize> = (0..n_seeds as usize).collect();
        let mut tables = vec![];
        let mut all_seeds = vec![];
        for run in 0..(12 / n_seeds) {
            let side = Side {
                build: CALIB,
                dumps: &dumps,
                seeds: &seeds,
                run,
                shift: 0.0,
            };
            tables.extend(self.side(model, world, &side).iter().map(|t| t.to_table()));
            all_seeds.extend(seeds.iter().map(|s| Some(*s)));
        }
        learn(
            &tables,
            &all_seeds,
            vec![format!("calibration world {world}")],
        )
    }
}

/// One design: paired (same seeds 1..n) or unpaired (independent seeds), with or without a
/// noise file (learned paired for paired designs), or `--repeats auto`.
struct Design {
    name: &'static str,
    repeats: usize,
    paired: bool,
    noise: bool,
    auto: bool,
}

const DESIGNS: [Design; 5] = [
    Design {
        name: "paired, 3 repeats",
        repeats: 3,
        paired: true,
        noise: false,
        auto: false,
    },
    Design {
        name: "paired + --noise (learned paired), 3 repeats",
        repeats: 3,
        paired: true,
        noise: true,
        auto: false,
    },
    Design {
        name: "paired, 5 repeats",
        repeats: 5,
        paired: true,
        noise: false,
        auto: false,
    },
    Design {
        name: "unpaired + --noise, 5 repeats",
        repeats: 5,
        paired: false,
        noise: true,
        auto: false,
    },
    Design {
        name: "--repeats auto (paired, 3 to 9)",
        repeats: AUTO_MAX,
        paired: true,
        noise: false,
        auto: true,
    },
];

/// Counts of one row.
#[derive(Default, Clone, Copy)]
struct Row {
    failed: usize,
    holm: usize,
    exact: usize,
    inconclusive: usize,
    pass: usize,
    repeats: usize,
}

impl Row {
    fn add(self, o: Row) -> Row {
        Row {
            failed: self.failed + o.failed,
            holm: self.holm + o.holm,
            exact: self.exact + o.exact,
            inconclusive: self.inconclusive + o.inconclusive,
            pass: self.pass + o.pass,
            repeats: self.repeats + o.repeats,
        }
    }

    fn of(verdict: Verdict, outcomes: &[RuleOutcome], repeats: usize) -> Row {
        let fails: Vec<_> = outcomes.iter().filter(|o| o.fails(false)).collect();
        Row {
            failed: usize::from(verdict == Verdict::Regression),
            holm: usize::from(fails.iter().any(|o| o.error_control == ErrorControl::Holm)),
            exact: usize::from(fails.iter().any(|o| o.error_control == ErrorControl::Exact)),
            inconclusive: usize::from(verdict == Verdict::Inconclusive),
            pass: usize::from(verdict == Verdict::Pass),
            repeats,
        }
    }
}

/// Clopper-Pearson one-sided 95% upper bound of a rate `x / n`.
fn upper(x: usize, n: usize) -> f64 {
    if x >= n {
        return 1.0;
    }
    Beta::new((x + 1) as f64, (n - x) as f64)
        .map(|b| b.inverse_cdf(0.95))
        .unwrap_or(1.0)
}

fn main() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let args: Vec<String> = std::env::args().collect();
    let pool_path = args.get(1).expect("usage: gate_sim POOL_SET [TRIALS]");
    let trials: usize = args.get(2).map(|t| t.parse()).transpose()?.unwrap_or(100);
    let set = StatsSet::load(pool_path.as_ref(), Default::default())?;
    let meta = Metadata::embedded("3.13").map_err(anyhow::Error::msg)?;
    let dumps = (0..set.repeats.len())
        .into_par_iter()
        .map(|i| dump(&set, i, &meta))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let opts = EvalOptions::with_defaults(meta.clone(), meta)?;
    // Aggregate metrics no rule reads cannot change a decision: dropped, trials run faster.
    let mut dumps = dumps;
    for d in &mut dumps {
        let read = |n: &String| opts.rules.rules.iter().any(|r| r.matches_metric(n));
        d.tables.aggregate.retain(|n, _| read(n));
    }
    let pool = Pool { dumps };
    let only = std::env::var("SIM_ONLY").ok();
    println!("| noise model | design | planted | trials | gate failed (95% upper) | via holm | via exact | inconclusive | pass (95% upper) | mean repeats |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for model in [
        Model::Normal,
        Model::Heavy,
        Model::Modes,
        Model::ModeShift,
        Model::Correlated,
        Model::Drift,
    ] {
        let noisy = |paired: bool| -> Vec<EvalOptions> {
            (0..16)
                .into_par_iter()
                .map(|w| {
                    let mut o = opts.clone();
                    o.noise =
                        Some(pool.calibrate(model, 900_000 + w + 100 * u64::from(paired), paired));
                    o
                })
                .collect()
        };
        let (unpaired_files, paired_files) = (noisy(false), noisy(true));
        for d in &DESIGNS {
            let files = match (d.noise, d.paired) {
                (false, _) => std::slice::from_ref(&opts),
                (true, true) => &paired_files[..],
                (true, false) => &unpaired_files[..],
            };
            for shift in [0.0, 1.0, 1.25, 2.0] {
                let key = format!("{model:?}/{}/{shift}", d.name);
                if only.as_ref().is_some_and(|o| !key.starts_with(o.as_str())) {
                    continue;
                }
                let r = (0..trials)
                    .into_par_iter()
                    .map(|t| trial(&pool, &files[t % files.len()], model, d, shift, t))
                    .try_reduce(Row::default, |a, b| Ok(a.add(b)))?;
                print_row(model, d, shift, trials, &r);
            }
        }
    }
    eprintln!(
        "{trials} trials per row in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn print_row(model: Model, d: &Design, shift: f64, trials: usize, r: &Row) {
    let pct = |x: usize| format!("{:.1}%", 100.0 * x as f64 / trials as f64);
    let up = |x: usize| format!("{} ({:.1}%)", pct(x), 100.0 * upper(x, trials));
    println!(
        "| {} | {} | {shift} pp | {trials} | {} | {} | {} | {} | {} | {:.1} |",
        model.name(),
        d.name,
        up(r.failed),
        pct(r.holm),
        pct(r.exact),
        pct(r.inconclusive),
        up(r.pass),
        r.repeats as f64 / trials as f64
    );
}

/// One gate run (or one `--repeats auto` sequence of looks) of one (model, design, shift).
fn trial(
    pool: &Pool,
    opts: &EvalOptions,
    model: Model,
    d: &Design,
    shift: f64,
    t: usize,
) -> anyhow::Result<Row> {
    // The mean change is the planted one: the mode switch's own mean shift is taken off.
    let plant = if model == Model::ModeShift {
        shift - 0.5 * SWITCH * 2.0 * MODE
    } else {
        shift
    };
    let world = (shift * 100.0) as u64 * 1_000_000 + t as u64;
    let n = d.repeats;
    let nd = pool.dumps.len();
    let pick = |s: u64| -> Vec<usize> {
        (0..n)
            .map(|k| (unit(&[world, s, k as u64]) * nd as f64) as usize % nd)
            .collect()
    };
    let (bs, hs): (Vec<u64>, Vec<u64>) = if d.paired {
        ((1..=n as u64).collect(), (1..=n as u64).collect())
    } else {
        (
            (0..n as u64).map(|k| 10_000 + k).collect(),
            (0..n as u64).map(|k| 20_000 + k).collect(),
        )
    };
    // Paired: seed k's dump on both sides (the pool's seed-dependent counters cancel).
    let base_dumps = pick(1);
    let head_dumps = if d.paired { pick(1) } else { pick(2) };
    let base = pool.side(
        model,
        world,
        &Side {
            build: BASE,
            dumps: &base_dumps,
            seeds: &bs,
            run: 0,
            shift: 0.0,
        },
    );
    let head = pool.side(
        model,
        world,
        &Side {
            build: HEAD,
            dumps: &head_dumps,
            seeds: &hs,
            run: 0,
            shift: plant,
        },
    );
    if !d.auto {
        let (v, outcomes) = decide_tables(base, head, d.paired, opts)?;
        debug(model, d, shift, v, &outcomes);
        return Ok(Row::of(v, &outcomes, n));
    }
    auto(base, head, opts)
}

/// `--repeats auto` in-process through the gate's own sequential rule
/// (`gate::sequential`): looks at 3, 5, ..., 9 paired repeats, each at alpha / the planned
/// looks; outcomes decided at a look stay decided (`freeze_outcomes`); stops where the gate
/// would (`stop_reason`: decided, or the maximum; the simulation has no time budget and
/// every design's rules reach their metrics, so none is blind).
fn auto(
    base: Vec<RepeatMetrics>,
    head: Vec<RepeatMetrics>,
    opts: &EvalOptions,
) -> anyhow::Result<Row> {
    let max = AUTO_MAX as u32;
    let mut o = opts.clone();
    o.alpha = Sequential::new(opts.alpha, max, None).look_alpha;
    let standing = Standing {
        checks_ok: true,
        results_differ: false,
        strict: o.strict,
        fail_on_warn: o.fail_on_warn,
        reach: None,
        blind: false,
    };
    let mut decided: Vec<RuleOutcome> = vec![];
    let mut n = START.min(max);
    loop {
        let k = n as usize;
        let (_, mut outcomes) = decide_tables(base[..k].to_vec(), head[..k].to_vec(), true, &o)?;
        let v = freeze_outcomes(&mut outcomes, &decided, standing);
        decided.extend(decided_of(&outcomes));
        let open = open_of(&outcomes, o.fail_on_warn).len();
        if stop_reason(v, open, standing.blind, n, max).is_some() {
            return Ok(Row::of(v, &outcomes, k));
        }
        n = next_repeats(n, max);
    }
}

fn debug(model: Model, d: &Design, shift: f64, v: Verdict, outcomes: &[RuleOutcome]) {
    if std::env::var_os("SIM_DEBUG").is_none() || v == Verdict::Pass {
        return;
    }
    for o in outcomes.iter().filter(|o| o.status > OutcomeStatus::Pass) {
        eprintln!(
            "{model:?} {} {shift}: {:?} {} {:?} {}",
            d.name, o.status, o.metric, o.benchmark, o.reason
        );
    }
}
