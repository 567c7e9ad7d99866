//! CPython metadata summarize_stats.py needs: specialized instructions, SPEC_FAIL and EVAL_CALL names.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Metadata for one CPython version, in summarize_stats.py's shape.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// "3.12", "3.13", "3.14", or "source" when read from a tree of unknown version.
    pub version: String,
    /// Specialized instruction names (`opcode._specialized_opmap` minus `__` names).
    #[serde(rename = "_specialized_instructions")]
    pub specialized_instructions: Vec<String>,
    /// `#define EVAL_CALL_*` from pystats.h: value -> names.
    #[serde(rename = "_stats_defines")]
    pub stats_defines: BTreeMap<u32, Vec<String>>,
    /// `#define SPEC_FAIL_*` from specialize.c: value -> names (in file order).
    #[serde(rename = "_defines")]
    pub defines: BTreeMap<u32, Vec<String>>,
    /// Opcode number -> name, for 3.12 dumps that print numeric opcode ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opnames: Vec<String>,
}

const EMBEDDED: &[(&str, &str)] = &[("3.13", include_str!("metadata/cpython-3.13.json"))];

/// Versions with embedded tables.
pub fn embedded_versions() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(v, _)| *v).collect()
}

impl Metadata {
    /// The embedded table for `version` ("3.13", ...).
    pub fn embedded(version: &str) -> Result<Metadata, String> {
        let (_, text) = EMBEDDED
            .iter()
            .find(|(v, _)| *v == version)
            .ok_or_else(|| {
                format!(
                    "no embedded metadata for Python {version} (have: {}); pass --cpython-src DIR",
                    embedded_versions().join(", ")
                )
            })?;
        serde_json::from_str(text)
            .map_err(|e| format!("embedded metadata {version} is corrupt: {e}"))
    }

    /// Reads the metadata summarize_stats.py stores in its `--json-output`.
    pub fn from_summarize_json(
        obj: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Option<Metadata>, String> {
        let Some(spec) = obj.get("_specialized_instructions") else {
            return Ok(None);
        };
        let specialized_instructions: Vec<String> = serde_json::from_value(spec.clone())
            .map_err(|e| format!("key `_specialized_instructions`: {e}"))?;
        let defines_of = |key: &str| -> Result<BTreeMap<u32, Vec<String>>, String> {
            match obj.get(key) {
                None => Ok(BTreeMap::new()),
                Some(v) => {
                    let m: BTreeMap<String, Vec<String>> = serde_json::from_value(v.clone())
                        .map_err(|e| format!("key `{key}`: {e}"))?;
                    m.into_iter()
                        .map(|(k, v)| {
                            k.parse::<u32>()
                                .map(|k| (k, v))
                                .map_err(|_| format!("key `{key}.{k}`: expected an integer key"))
                        })
                        .collect()
                }
            }
        };
        Ok(Some(Metadata {
            version: "json".into(),
            specialized_instructions,
            stats_defines: defines_of("_stats_defines")?,
            defines: defines_of("_defines")?,
            opnames: vec![],
        }))
    }

    /// Reads metadata from a CPython source tree, as summarize_stats.py does.
    pub fn from_source(dir: &Path) -> Result<Metadata, String> {
        let read = |rel: &str| {
            std::fs::read_to_string(dir.join(rel))
                .map_err(|e| format!("{}: {e}", dir.join(rel).display()))
        };
        let meta_py = dir.join("Lib/_opcode_metadata.py");
        let specialized_instructions = if meta_py.exists() {
            parse_specialized_opmap(&read("Lib/_opcode_metadata.py")?)
        } else {
            return Err(format!(
                "{}: not found; CPython 3.13+ source expected (3.12 trees: use the embedded table)",
                meta_py.display()
            ));
        };
        let pystats_h = ["Include/cpython/pystats.h", "Include/pystats.h"]
            .iter()
            .find(|p| dir.join(p).exists())
            .ok_or_else(|| format!("{}: no Include/cpython/pystats.h", dir.display()))?;
        Ok(Metadata {
            version: "source".into(),
            specialized_instructions,
            stats_defines: parse_defines(&read(pystats_h)?, "EVAL_CALL"),
            defines: parse_defines(&read("Python/specialize.c")?, "SPEC_FAIL"),
            opnames: vec![],
        })
    }
}

/// Picks the metadata for `set`: `--cpython-src` > `--python-version` > metadata embedded
/// in a summarize_stats JSON > version detected from the dump keys > 3.13.
pub fn resolve_metadata(
    opts: &crate::cli::InputOpts,
    set: &crate::stats_set::StatsSet,
) -> anyhow::Result<Metadata> {
    let keys = set
        .repeats
        .first()
        .and_then(|r| r.benchmarks.values().next())
        .map(|b| &b.counters);
    resolve(
        opts,
        set.manifest.as_ref(),
        set.embedded_metadata.as_ref(),
        keys,
    )
}

/// [`resolve_metadata`] for a totals-only set.
pub fn resolve_metadata_totals(
    opts: &crate::cli::InputOpts,
    set: &crate::stats_set::SetTotals,
) -> anyhow::Result<Metadata> {
    resolve(
        opts,
        set.manifest.as_ref(),
        set.embedded_metadata.as_ref(),
        Some(&set.totals),
    )
}

fn resolve(
    opts: &crate::cli::InputOpts,
    manifest: Option<&crate::stats_set::Manifest>,
    embedded: Option<&Metadata>,
    sample: Option<&crate::raw::Counters>,
) -> anyhow::Result<Metadata> {
    use crate::error::Error;
    if let Some(dir) = &opts.cpython_src {
        return Metadata::from_source(dir)
            .map_err(|e| Error::input(format!("--cpython-src: {e}")).into());
    }
    if let Some(v) = &opts.python_version {
        return Metadata::embedded(v)
            .map_err(|e| Error::input(format!("--python-version: {e}")).into());
    }
    if let Some(m) = embedded {
        return Ok(m.clone());
    }
    let detected = manifest
        .and_then(|m| m.python_version.clone())
        .filter(|v| embedded_versions().contains(&v.as_str()))
        .or_else(|| sample.and_then(detect_version));
    let version = detected.unwrap_or_else(|| "3.13".to_string());
    match Metadata::embedded(&version) {
        Ok(m) => Ok(m),
        // A detected version without a table still gets a report, read with the 3.13 table.
        Err(_) => Metadata::embedded("3.13").map_err(|e| Error::input(e).into()),
    }
}

/// Guesses the CPython version from the shape of dump keys: numeric opcode ids are 3.12;
/// mortal/immortal increfs, JIT sizes, GC reachability or `BINARY_OP_SUBSCR_*` are 3.14+.
pub fn detect_version(counters: &crate::raw::Counters) -> Option<String> {
    let mut numeric_opcodes = false;
    let mut newer = false;
    for key in counters.keys() {
        if let Some(rest) = key.strip_prefix("opcode[") {
            if rest.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
                numeric_opcodes = true;
            }
        }
        if key.starts_with("Object immortal")
            || key.starts_with("Object mortal")
            || key.starts_with("JIT ")
            || key.contains("reachable from roots")
            || key.starts_with("opcode[BINARY_OP_SUBSCR")
        {
            newer = true;
        }
    }
    if numeric_opcodes {
        Some("3.12".into())
    } else if newer {
        Some("3.14".into())
    } else {
        None
    }
}

/// Keys of the `_specialized_opmap = { 'NAME': N, ... }` literal, skipping `__` names.
fn parse_specialized_opmap(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut inside = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("_specialized_opmap") && t.ends_with('{') {
            inside = true;
            continue;
        }
        if inside {
            if t.starts_with('}') {
                break;
            }
            if let Some((k, _)) = t.split_once(':') {
                let name = k.trim().trim_matches(|c| c == '\'' || c == '"');
                if !name.contains("__") && !name.is_empty() {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// `#define PREFIX_NAME VALUE` lines, grouped by value in file order (like get_defines()).
fn parse_defines(text: &str, prefix: &str) -> BTreeMap<u32, Vec<String>> {
    let start = format!("#define {prefix}_");
    let mut out: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix(&start) else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        if let (Some(name), Some(val), None) = (parts.next(), parts.next(), parts.next()) {
            if let Ok(v) = val.parse::<u32>() {
                out.entry(v).or_default().push(name.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_313_loads() {
        let m = Metadata::embedded("3.13").unwrap();
        assert!(m
            .specialized_instructions
            .iter()
            .any(|s| s == "LOAD_ATTR_INSTANCE_VALUE"));
        assert_eq!(m.stats_defines[&0], vec!["TOTAL".to_string()]);
        assert!(Metadata::embedded("2.7").is_err());
    }
}
