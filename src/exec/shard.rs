//! Deterministic partition of (benchmark x repeat) work units into `K/N` shards for CI matrices.

use crate::error::Error;
use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (1-based, as written on the command line: `--shard 2/3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::input(format!(
                "--shard {s:?}: expected K/N with 1 <= K <= N (e.g. 2/4)"
            ))
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One unit of corpus work: benchmark `bench` in repeat `repeat` (1-based; seed = repeat).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkUnit {
    pub repeat: u32,
    pub bench: String,
}

/// All units in canonical order: repeat-major, benchmarks in selection order.
pub fn all_units(benchmarks: &[String], repeats: u32) -> Vec<WorkUnit> {
    (1..=repeats)
        .flat_map(|repeat| {
            benchmarks.iter().map(move |b| WorkUnit {
                repeat,
                bench: b.clone(),
            })
        })
        .collect()
}

impl Shard {
    /// The units this shard runs: round-robin over the canonical order, so shards stay
    /// balanced whatever the corpus size, and every unit lands in exactly one shard.
    pub fn units(&self, benchmarks: &[String], repeats: u32) -> Vec<WorkUnit> {
        all_units(benchmarks, repeats)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| (*i as u32) % self.count == self.index - 1)
            .map(|(_, u)| u)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
        for bad in ["0/3", "4/3", "1/0", "x", "1/", "/2", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn shards_partition_the_units(nb in 1usize..12, repeats in 1u32..6, count in 1u32..8) {
            let benches: Vec<String> = (0..nb).map(|i| format!("b{i}")).collect();
            let mut seen = vec![];
            for index in 1..=count {
                seen.extend(Shard { index, count }.units(&benches, repeats));
            }
            let mut all = all_units(&benches, repeats);
            seen.sort();
            all.sort();
            prop_assert_eq!(seen, all);
        }
    }
}
