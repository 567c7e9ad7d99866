//! Simulation benchmark of the gate's error rates under six noise models (run by ci/gate-sim.sh).
//!
//! Dumps: a real stats set of one build (tests/fixtures/gate/whole-process-aa-3.13.5, 12
//! whole-process dumps). Each simulated run takes one of its dumps and moves LOAD_ATTR hits
//! to misses (family and one member, so the consistency checks hold) by the run's noise,
//! drawn from a noise model per (build, seed), plus the planted shift in head. The shipped
//! rules fail a family miss ratio up by more than 1 pp: 0 pp is A/A, 1 pp sits on the limit
//! (any failure there is a false failure), 1.25 pp must not pass, 2 pp must fail. Noise
//! files (`--noise`) are learned out of sample: `noise::learn` on 12 runs of a separate
//! calibration build with its own seeds, drawn from the same model (a fresh one per trial,
//! from a stock of 16 per model).

use pystats_gate::gate::evaluate::evaluate;
use pystats_gate::gate::noise::{learn, NoiseFile};
use pystats_gate::gate::report_model::{EvalOptions, Verdict};
use pystats_gate::gate::statistics::ErrorControl;
use pystats_gate::stats::metadata::Metadata;
use pystats_gate::stats::set::{Repeat, StatsSet};
use statrs::distribution::{Beta, ContinuousCDF};

const FAMILY: &str = "LOAD_ATTR";
/// The second family the correlated model moves with LOAD_ATTR.
const FAMILY2: &str = "LOAD_GLOBAL";
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

/// A deterministic hash to (0, 1): the noise of (world, build, seed, stream).
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

/// One run's deviations (pp) of LOAD_ATTR's and LOAD_GLOBAL's miss ratios in `world`.
fn deviation(model: Model, world: u64, build: u64, seed: u64) -> (f64, f64) {
    let run = |s: u64| normal(&[world, build, seed, s]);
    match model {
        Model::Normal => (SIGMA * run(0), 0.0),
        Model::Heavy => {
            let chi2: f64 = (1..=3).map(|s| run(s).powi(2)).sum();
            (SIGMA * run(0) / (chi2 / 3.0).sqrt() / 3f64.sqrt(), 0.0)
        }
        Model::Modes | Model::ModeShift => {
            // The mode is the seed's (all builds agree), except where head switches.
            let high = unit(&[world, seed, 7]) < 0.5;
            let switched =
                model == Model::ModeShift && build == HEAD && unit(&[world, seed, 8]) < SWITCH;
            (if high || switched { MODE } else { -MODE }, 0.0)
        }
        Model::Correlated => {
            let common = run(0);
            (SIGMA * common, SIGMA * (0.8 * common + 0.6 * run(1)))
        }
        Model::Drift => {
            let scale = 2f64.powf(2.0 * unit(&[world, build, 9]) - 1.0);
            (SIGMA * scale * run(0), 0.0)
        }
    }
}

/// Moves `k` counts from `family` hits to misses (negative: back), family and member.
fn move_misses(r: &mut Repeat, family: &str, k: i64) {
    for b in r.benchmarks.values_mut() {
        let c = &mut b.counters;
        let hit_key = format!("opcode[{family}].specialization.hit");
        let miss_key = format!("opcode[{family}].specialization.miss");
        let member = c
            .iter()
            .filter(|(key, _)| {
                key.starts_with(&format!("opcode[{family}_"))
                    && key.ends_with("].specialization.miss")
            })
            .max_by_key(|(_, v)| *v)
            .map(|(key, _)| key.to_string());
        let Some(member) = member else { continue };
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

/// The simulation's fixed inputs.
struct Pool {
    set: StatsSet,
    /// Per pool dump: LOAD_ATTR's and LOAD_GLOBAL's miss-ratio denominators.
    totals: Vec<(f64, f64)>,
    meta: Metadata,
}

impl Pool {
    /// A side of `seeds.len()` runs of `build` in `world`: dump `dumps[k]`, seed `seeds[k]`
    /// (kept in the set only when `keep_seeds`), plus `shift` pp (rounded down to counts).
    #[allow(clippy::too_many_arguments)]
    fn side(
        &self,
        model: Model,
        world: u64,
        build: u64,
        dumps: &[usize],
        seeds: &[u64],
        keep_seeds: bool,
        shift: f64,
    ) -> StatsSet {
        let mut s = self.set.clone();
        s.manifest = None;
        s.repeats = dumps
            .iter()
            .zip(seeds)
            .enumerate()
            .map(|(k, (i, seed))| {
                let mut r = self.set.repeats[*i].clone();
                r.name = format!("run-{}", k + 1);
                r.seed = keep_seeds.then_some(*seed);
                let (d1, d2) = deviation(model, world, build, *seed);
                let (t1, t2) = self.totals[*i];
                let moved = (d1 / 100.0 * t1).round() as i64 + (shift / 100.0 * t1).floor() as i64;
                move_misses(&mut r, FAMILY, moved);
                move_misses(&mut r, FAMILY2, (d2 / 100.0 * t2).round() as i64);
                r
            })
            .collect();
        s
    }

    /// A noise file learned on 12 runs of a calibration build (seeds of its own).
    fn calibrate(&self, model: Model, world: u64) -> anyhow::Result<NoiseFile> {
        let seeds: Vec<u64> = (0..12).map(|k| 1_000 + world * 100 + k).collect();
        let dumps: Vec<usize> = (0..12).collect();
        let set = self.side(model, world, CALIB, &dumps, &seeds, true, 0.0);
        let tables = pystats_gate::gate::metrics::set_metrics(&set, &self.meta, true)?;
        let seeds: Vec<Option<u64>> = seeds.into_iter().map(Some).collect();
        Ok(learn(
            &tables,
            &seeds,
            vec![format!("calibration world {world}")],
        ))
    }
}

/// One design: paired (same seeds 1..n) or unpaired (independent seeds), with a noise file.
struct Design {
    name: &'static str,
    repeats: usize,
    paired: bool,
    noise: bool,
}

/// Counts of one row.
#[derive(Default)]
struct Row {
    failed: usize,
    holm: usize,
    exact: usize,
    inconclusive: usize,
    pass: usize,
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
    let args: Vec<String> = std::env::args().collect();
    let pool_path = args.get(1).expect("usage: gate_sim POOL_SET [TRIALS]");
    let trials: usize = args.get(2).map(|t| t.parse().unwrap()).unwrap_or(100);
    let set = StatsSet::load(pool_path.as_ref(), Default::default())?;
    let meta = Metadata::embedded("3.13").map_err(anyhow::Error::msg)?;
    let tables = pystats_gate::gate::metrics::set_metrics(&set, &meta, false)?;
    let den = |t: &pystats_gate::gate::metrics::MetricTable, f: &str| {
        t[&format!("family.{f}.miss_ratio")].den.unwrap_or(0.0)
    };
    let totals = tables
        .iter()
        .map(|t| (den(t, FAMILY), den(t, FAMILY2)))
        .collect();
    let pool = Pool { set, totals, meta };
    let opts = EvalOptions::with_defaults(pool.meta.clone(), pool.meta.clone())?;
    let designs = [
        Design {
            name: "paired, 3 repeats",
            repeats: 3,
            paired: true,
            noise: false,
        },
        Design {
            name: "paired, 5 repeats",
            repeats: 5,
            paired: true,
            noise: false,
        },
        Design {
            name: "unpaired + --noise, 5 repeats",
            repeats: 5,
            paired: false,
            noise: true,
        },
    ];
    let only = std::env::var("SIM_ONLY").ok();
    println!("| noise model | design | planted | trials | gate failed (95% upper) | via holm | via exact | inconclusive | pass (95% upper) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for model in [
        Model::Normal,
        Model::Heavy,
        Model::Modes,
        Model::ModeShift,
        Model::Correlated,
        Model::Drift,
    ] {
        let calibrations: Vec<NoiseFile> = (0..16)
            .map(|w| pool.calibrate(model, 900_000 + w))
            .collect::<anyhow::Result<_>>()?;
        for d in &designs {
            for shift in [0.0, 1.0, 1.25, 2.0] {
                let key = format!("{model:?}/{}/{shift}", d.name);
                if only.as_ref().is_some_and(|o| !key.starts_with(o.as_str())) {
                    continue;
                }
                let r = run_row(&pool, &opts, model, d, shift, trials, &calibrations)?;
                let pct = |x: usize| format!("{:.1}%", 100.0 * x as f64 / trials as f64);
                let up = |x: usize| format!("{} ({:.1}%)", pct(x), 100.0 * upper(x, trials));
                println!(
                    "| {} | {} | {shift} pp | {trials} | {} | {} | {} | {} | {} |",
                    model.name(),
                    d.name,
                    up(r.failed),
                    pct(r.holm),
                    pct(r.exact),
                    pct(r.inconclusive),
                    up(r.pass)
                );
            }
        }
    }
    Ok(())
}

/// `trials` gate runs of one (model, design, shift).
fn run_row(
    pool: &Pool,
    opts: &EvalOptions,
    model: Model,
    d: &Design,
    shift: f64,
    trials: usize,
    calibrations: &[NoiseFile],
) -> anyhow::Result<Row> {
    let mut row = Row::default();
    let mut noisy = opts.clone();
    // The mean change is the planted one: the mode switch's own mean shift is taken off.
    let plant = if model == Model::ModeShift {
        shift - 0.5 * SWITCH * 2.0 * MODE
    } else {
        shift
    };
    for t in 0..trials {
        let world = (shift * 100.0) as u64 * 1_000_000 + t as u64;
        let n = d.repeats;
        let pick = |s: u64| -> Vec<usize> {
            (0..n)
                .map(|k| (unit(&[world, s, k as u64]) * 12.0) as usize % 12)
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
        let base = pool.side(model, world, BASE, &pick(1), &bs, d.paired, 0.0);
        // Paired: seed k's dump on both sides (the pool's seed-dependent counters cancel).
        let head_dumps = if d.paired { pick(1) } else { pick(2) };
        let head = pool.side(model, world, HEAD, &head_dumps, &hs, d.paired, plant);
        let o = if d.noise {
            noisy.noise = Some(calibrations[t % calibrations.len()].clone());
            &noisy
        } else {
            opts
        };
        let rep = evaluate(&base, &head, o)?;
        let fails: Vec<_> = rep.failing().collect();
        row.failed += usize::from(rep.verdict == Verdict::Regression);
        row.holm += usize::from(fails.iter().any(|o| o.error_control == ErrorControl::Holm));
        row.exact += usize::from(fails.iter().any(|o| o.error_control == ErrorControl::Exact));
        row.inconclusive += usize::from(rep.verdict == Verdict::Inconclusive);
        row.pass += usize::from(rep.verdict == Verdict::Pass);
        if std::env::var_os("SIM_DEBUG").is_some() && rep.verdict != Verdict::Pass {
            for o in rep
                .outcomes
                .iter()
                .filter(|o| o.status > pystats_gate::gate::report_model::OutcomeStatus::Pass)
            {
                eprintln!(
                    "{model:?} {} {shift}: {:?} {} {:?} {}",
                    d.name, o.status, o.metric, o.benchmark, o.reason
                );
            }
        }
    }
    Ok(row)
}
