//! Raw pystats dump model and line parser (the text CPython writes into /tmp/py_stats).

use crate::error::Error;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Named counters in first-seen order (summarize_stats.py keeps dict insertion order,
/// and some of its tables are printed in that order). Keys are [`intern`]ed: a set of
/// 30,000 dumps of the same few thousand names stores each name once.
/// After [`Counters::compact`] a dump's names are a shared [`KeyShape`] and only its values
/// are its own (8 bytes a counter).
#[derive(Clone, Debug, Default)]
pub struct Counters {
    store: Store,
}

type KeyMap = IndexMap<&'static str, u64, foldhash::fast::RandomState>;

#[derive(Clone, Debug)]
enum Store {
    /// Growing: parsing and summing add keys.
    Map(KeyMap),
    /// Compacted: the names are shared, the values follow their order.
    Dense {
        shape: std::sync::Arc<KeyShape>,
        values: Box<[u64]>,
    },
}

impl Default for Store {
    fn default() -> Self {
        Store::Map(KeyMap::default())
    }
}

/// One sequence of counter names, shared by every compacted dump that names exactly these
/// in this order (the dumps of one program across repeats, usually).
#[derive(Debug)]
pub struct KeyShape {
    keys: Box<[&'static str]>,
    index: crate::intern::NameIndex,
}

/// The distinct [`KeyShape`]s of a load: dumps with the same names share one.
#[derive(Default)]
pub struct KeyShapes(crate::intern::Interner<&'static str, KeyShape>);

/// Equal when they hold the same keys and values, in any order (as maps compare).
impl PartialEq for Counters {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.lookup(k) == Some(v))
    }
}

impl Eq for Counters {}

impl Serialize for Counters {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Counters {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = IndexMap::<String, u64>::deserialize(d)?;
        Ok(map.into_iter().collect())
    }
}

/// The one table of distinct counter names. Every [`Counters`] key points into it, so memory
/// grows with the distinct names a run reads, not with dumps x names. Names are never freed
/// (a run reads a bounded set: [`MAX_COUNTERS`] per dump). Each thread keeps a cache of the
/// names it has seen, so parallel parsing rarely takes the lock.
pub fn intern(key: &str) -> &'static str {
    use std::cell::RefCell;
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    type Set = HashSet<&'static str, foldhash::fast::RandomState>;
    thread_local! {
        static SEEN: RefCell<Set> = RefCell::new(Set::default());
    }
    static TABLE: OnceLock<Mutex<Set>> = OnceLock::new();
    if let Some(k) = SEEN.with(|s| s.borrow().get(key).copied()) {
        return k;
    }
    let k = {
        let mut table = TABLE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match table.get(key) {
            Some(k) => *k,
            None => {
                let k: &'static str = Box::leak(key.to_owned().into_boxed_str());
                table.insert(k);
                k
            }
        }
    };
    SEEN.with(|s| s.borrow_mut().insert(k));
    k
}

/// Summing two counters overflowed u64 (a wrapped counter, see python/cpython#113010).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overflow {
    pub key: String,
    pub current: u64,
    pub added: u64,
}

impl Counters {
    pub fn new() -> Self {
        Self::default()
    }
    fn lookup(&self, key: &str) -> Option<u64> {
        match &self.store {
            Store::Map(m) => m.get(key).copied(),
            Store::Dense { shape, values } => shape.index.get(key).map(|&i| values[i as usize]),
        }
    }
    pub fn get(&self, key: &str) -> u64 {
        self.lookup(key).unwrap_or(0)
    }
    pub fn contains(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }
    pub fn len(&self) -> usize {
        match &self.store {
            Store::Map(m) => m.len(),
            Store::Dense { values, .. } => values.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The key and value at position `i` (first-seen order).
    fn entry(&self, i: usize) -> Option<(&'static str, u64)> {
        match &self.store {
            Store::Map(m) => m.get_index(i).map(|(k, v)| (*k, *v)),
            Store::Dense { shape, values } => Some((*shape.keys.get(i)?, values[i])),
        }
    }
    /// Keys are interned: they outlive the counters (a model's groups borrow them freely).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        (0..self.len()).filter_map(|i| self.entry(i))
    }
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.iter().map(|(k, _)| k)
    }
    /// The growable map, undoing [`Counters::compact`] first.
    fn map(&mut self) -> &mut KeyMap {
        if let Store::Dense { shape, values } = &self.store {
            let m: KeyMap = shape
                .keys
                .iter()
                .copied()
                .zip(values.iter().copied())
                .collect();
            self.store = Store::Map(m);
        }
        match &mut self.store {
            Store::Map(m) => m,
            Store::Dense { .. } => unreachable!("converted above"),
        }
    }
    /// Keeps only the values, sharing the names with every dump of `shapes` that has the
    /// same ones: what a loaded set holds per dump (8 bytes a counter).
    pub fn compact(&mut self, shapes: &mut KeyShapes) {
        let Store::Map(m) = &self.store else {
            return;
        };
        let keys: Box<[&'static str]> = m.keys().copied().collect();
        let values: Box<[u64]> = m.values().copied().collect();
        let shape = shapes.0.get_or_make(keys, |keys| KeyShape {
            keys: keys.into(),
            index: crate::intern::name_index(keys.iter().copied()),
        });
        self.store = Store::Dense { shape, values };
    }
    /// Adds `value` to `key`, failing instead of wrapping.
    pub fn add(&mut self, key: &str, value: u64) -> Result<(), Overflow> {
        let map = self.map();
        match map.get_mut(key) {
            Some(slot) => {
                *slot = slot.checked_add(value).ok_or_else(|| Overflow {
                    key: key.to_string(),
                    current: *slot,
                    added: value,
                })?;
            }
            None => {
                map.insert(intern(key), value);
            }
        }
        Ok(())
    }
    /// Finds, among the few keys expected next (from index `hint`), one that `line` starts
    /// with, followed by optional blanks and `:`. Returns its index and the colon's offset.
    fn match_expected(&self, line: &[u8], hint: usize) -> Option<(usize, usize)> {
        let end = (hint + 8).min(self.len());
        for i in hint..end {
            let (k, _) = self.entry(i)?;
            let k = k.as_bytes();
            // Cheap rejects first: the byte after the key must end it, and the last bytes agree.
            if line.len() > k.len()
                && matches!(line[k.len()], b' ' | b'\t' | b':')
                && k.last() == line.get(k.len().wrapping_sub(1))
                && line.starts_with(k)
            {
                let mut q = k.len();
                while q < line.len() && (line[q] == b' ' || line[q] == b'\t') {
                    q += 1;
                }
                if q < line.len() && line[q] == b':' {
                    return Some((i, q));
                }
            }
        }
        None
    }

    /// Index of `key`, inserting it with value 0 when new.
    fn index_or_insert(&mut self, key: &str) -> usize {
        let map = self.map();
        match map.get_index_of(key) {
            Some(i) => i,
            None => map.insert_full(intern(key), 0).0,
        }
    }

    /// Adds `value` to the counter at `idx`; leaves `*hint` just past it.
    fn add_at(&mut self, idx: usize, value: u64, hint: &mut usize) -> Result<(), HintedAddError> {
        let (k, slot) = self.map().get_index_mut(idx).expect("index from this map");
        *slot = slot.checked_add(value).ok_or_else(|| {
            HintedAddError::Overflow(Overflow {
                key: k.to_string(),
                current: *slot,
                added: value,
            })
        })?;
        *hint = idx + 1;
        Ok(())
    }

    /// Adds `value` to the counter whose name is `key` (ASCII-trimmed bytes of a dump line),
    /// trying index `*hint` before hashing; leaves `*hint` at the index after the key.
    fn add_hinted(
        &mut self,
        key: &[u8],
        value: u64,
        hint: &mut usize,
    ) -> Result<(), HintedAddError> {
        // Files skip keys whose value is zero, so look a few places past the hint first.
        let ahead = (*hint..(*hint + 8).min(self.len())).find(|&i| {
            self.entry(i)
                .is_some_and(|(k, _)| k.len() == key.len() && k.as_bytes() == key)
        });
        let idx = match ahead {
            Some(i) => i,
            None => {
                let text = std::str::from_utf8(key)
                    .map_err(|_| HintedAddError::SlowPath)?
                    .trim();
                if !text.chars().all(key_char) {
                    return Err(HintedAddError::SlowPath); // the slow path words the error
                }
                let normalized;
                let text = if text.starts_with("uops[") && !text[5..].starts_with('_') {
                    normalized = normalize_key(text);
                    normalized.as_str()
                } else {
                    text
                };
                self.index_or_insert(text)
            }
        };
        self.add_at(idx, value, hint)
    }
    /// Sets a counter (used by fixtures and tests that plant values).
    pub fn set(&mut self, key: &str, value: u64) {
        self.map().insert(intern(key), value);
    }
    /// Adds every counter of `other` into `self`.
    pub fn merge(&mut self, other: &Counters) -> Result<(), Overflow> {
        // Both maps usually list keys in the same order: match in place before hashing
        // (interned keys are equal exactly when they are the same pointer).
        let mut hint = 0;
        for (k, v) in other.iter() {
            let found = (hint..(hint + 8).min(self.len()))
                .find(|&i| self.entry(i).is_some_and(|(x, _)| std::ptr::eq(x, k)));
            let idx = match found {
                Some(i) => i,
                None => self.index_or_insert(k),
            };
            if let Err(HintedAddError::Overflow(o)) = self.add_at(idx, v, &mut hint) {
                return Err(o);
            }
        }
        Ok(())
    }
}

enum HintedAddError {
    Overflow(Overflow),
    /// Not added: the slow path reads the line again and words what is wrong.
    SlowPath,
}

impl FromIterator<(String, u64)> for Counters {
    fn from_iter<I: IntoIterator<Item = (String, u64)>>(iter: I) -> Self {
        Counters {
            store: Store::Map(iter.into_iter().map(|(k, v)| (intern(&k), v)).collect()),
        }
    }
}

/// A line that could not be parsed and was skipped under `--allow-malformed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalformedLine {
    pub path: String,
    pub line: usize,
    pub reason: String,
}

/// How strictly to parse.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParseOptions {
    /// Skip (and record) malformed lines instead of failing.
    pub allow_malformed: bool,
}

/// One parsed dump file: its counters summed over every process dump it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedDump {
    pub counters: Counters,
    pub malformed: Vec<MalformedLine>,
}

/// Normalises a key the way summarize_stats.py does: strip, and give old `uops[X]`
/// names their missing underscore.
pub fn normalize_key(key: &str) -> String {
    let key = key.trim();
    if let Some(rest) = key.strip_prefix("uops[") {
        if !rest.starts_with('_') {
            return format!("uops[_{rest}");
        }
    }
    key.to_string()
}

/// Parses one `key : value` line. Returns `Ok(None)` for blank lines.
pub fn parse_line(line: &str) -> Result<Option<(String, u64)>, String> {
    match split_line(line.as_bytes())? {
        None => Ok(None),
        Some((key, value)) => Ok(Some((normalize_key(key), value))),
    }
}

/// A character a counter name may hold. CPython writes printable names; a byte order mark
/// or a control character (a NUL, say) would file the value under another name, unseen.
pub(crate) fn key_char(c: char) -> bool {
    !(c.is_control() || c == '\u{feff}')
}

/// Splits one line (without its newline) into a trimmed key and its value, borrowing the key.
/// Python's `line.split(":")` must give exactly two parts, as in summarize_stats.py.
fn split_line(raw: &[u8]) -> Result<Option<(&str, u64)>, String> {
    let shown = || crate::output::quote(raw);
    let Some(colon) = memchr::memchr(b':', raw) else {
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(None);
        }
        return Err(match std::str::from_utf8(raw) {
            Ok(_) => format!("expected `key : value`, found {}", shown()),
            Err(e) => format!("line is not valid UTF-8 (byte {})", e.valid_up_to()),
        });
    };
    let (key_bytes, value_bytes) = (&raw[..colon], &raw[colon + 1..]);
    let key = std::str::from_utf8(key_bytes)
        .map_err(|e| format!("line is not valid UTF-8 (byte {})", e.valid_up_to()))?
        .trim();
    if memchr::memchr(b':', value_bytes).is_some() {
        return Err(format!(
            "expected exactly one `:` separating key and value, found {}",
            shown()
        ));
    }
    if key.is_empty() {
        return Err(format!("empty key in {}", shown()));
    }
    if let Some(c) = key.chars().find(|c| !key_char(*c)) {
        return Err(format!(
            "key holds {c:?}, which no pystats key holds (a byte order mark, a control character?): {}",
            shown()
        ));
    }
    let digits = value_bytes.trim_ascii();
    let mut value: u64 = 0;
    let mut overflow = false;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(match std::str::from_utf8(value_bytes) {
                Ok(v) => format!(
                    "value {} is not a non-negative integer",
                    crate::output::quote(v.as_bytes())
                ),
                Err(e) => format!(
                    "line is not valid UTF-8 (byte {})",
                    colon + 1 + e.valid_up_to()
                ),
            });
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if digits.is_empty() {
        return Err(format!(
            "value \"\" is not a non-negative integer (key {})",
            crate::output::quote(key.as_bytes())
        ));
    }
    if overflow {
        return Err(format!(
            "value {} does not fit in 64 bits (wrapped counter?)",
            crate::output::quote(digits)
        ));
    }
    Ok(Some((key, value)))
}

/// Adds one parsed key into `sink`, normalising old `uops[X]` names without allocating otherwise.
fn add_key(sink: &mut Counters, key: &str, value: u64) -> Result<(), Overflow> {
    if key.starts_with("uops[") && !key[5..].starts_with('_') {
        sink.add(&normalize_key(key), value)
    } else {
        sink.add(key, value)
    }
}

/// The most distinct counters a dump (or the files summed with it) may name. Real dumps
/// name a few thousand (even every pair of 300 tier 2 uops is 90,000); each counter becomes
/// several metrics, so a file of millions of made-up keys would take gigabytes.
pub const MAX_COUNTERS: usize = 200_000;

fn too_many_counters(path: &Path, line_no: usize) -> Error {
    Error::at_line(
        path,
        line_no,
        format!("more than {MAX_COUNTERS} distinct counters: not a pystats dump (real ones name a few thousand)"),
    )
}

fn overflow_at(path: &Path, line_no: usize, o: Overflow) -> Error {
    Error::at_line(
        path,
        line_no,
        format!(
            "counter {} overflows 64 bits when summed ({} + {}): wrapped counter?",
            crate::output::quote(o.key.as_bytes()),
            o.current,
            o.added
        ),
    )
}

/// What [`fast_line`] made of a line.
enum Fast {
    /// Added; the next line starts at `next`. `new_key`: the key was not one expected.
    Added {
        next: usize,
        new_key: bool,
    },
    Overflow(Overflow),
    /// Not a plain `key : digits` line: the slow path words what it is.
    Slow,
}

/// The fast path: `key : digits\n` at `pos` scanned once; the key is first matched in
/// place against the keys expected next (`hint`), and only hashed when none of them fits.
fn fast_line(bytes: &[u8], pos: usize, sink: &mut Counters, hint: &mut usize) -> Fast {
    let n = bytes.len();
    let mut p = pos;
    while p < n && (bytes[p] == b' ' || bytes[p] == b'\t') {
        p += 1;
    }
    let (known, colon) = match sink.match_expected(&bytes[p..], *hint) {
        Some((idx, colon_off)) => (Some(idx), Some(p + colon_off)),
        None => (
            None,
            memchr::memchr2(b':', b'\n', &bytes[p..]).map(|o| p + o),
        ),
    };
    let Some(colon) = colon.filter(|&c| bytes[c] == b':') else {
        return Fast::Slow;
    };
    let Some((value, newline)) = scan_value(bytes, colon + 1) else {
        return Fast::Slow;
    };
    let added = match known {
        Some(idx) => sink.add_at(idx, value, hint),
        None => {
            let key = bytes[p..colon].trim_ascii();
            if key.is_empty() {
                Err(HintedAddError::SlowPath) // the slow path words the error
            } else {
                sink.add_hinted(key, value, hint)
            }
        }
    };
    match added {
        Ok(()) => Fast::Added {
            next: newline + 1,
            new_key: known.is_none(),
        },
        Err(HintedAddError::Overflow(o)) => Fast::Overflow(o),
        Err(HintedAddError::SlowPath) => Fast::Slow,
    }
}

/// The value after a colon (`j` just past it): blanks, digits that fit in 64 bits, blanks,
/// then a newline. Returns the value and where the newline is.
fn scan_value(bytes: &[u8], mut j: usize) -> Option<(u64, usize)> {
    let n = bytes.len();
    while j < n && (bytes[j] == b' ' || bytes[j] == b'\t') {
        j += 1;
    }
    let digits_start = j;
    let mut value: u64 = 0;
    let mut fits = true;
    while j < n && bytes[j].is_ascii_digit() {
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(bytes[j] - b'0')))
        {
            Some(v) => value = v,
            None => fits = false,
        }
        j += 1;
    }
    let has_digits = j > digits_start;
    while j < n && (bytes[j] == b' ' || bytes[j] == b'\t' || bytes[j] == b'\r') {
        j += 1;
    }
    (fits && has_digits && j < n && bytes[j] == b'\n').then_some((value, j))
}

/// Parses the bytes of one dump file and adds its counters into `sink` (several process
/// dumps in one file add up). `path` is only used in messages. Skipped lines go to `malformed`
/// under `allow_malformed`; otherwise the first bad line is an error naming file and line.
/// Returns the number of counter lines read.
pub fn parse_into(
    bytes: &[u8],
    path: &Path,
    opts: ParseOptions,
    sink: &mut Counters,
    malformed: &mut Vec<MalformedLine>,
) -> Result<usize, Error> {
    let mut counted = 0usize;
    let mut reject = |line_no: usize, reason: String| -> Result<(), Error> {
        if opts.allow_malformed {
            malformed.push(MalformedLine {
                path: path.display().to_string(),
                line: line_no,
                reason,
            });
            Ok(())
        } else {
            Err(Error::at_line(path, line_no, reason))
        }
    };
    if bytes.is_empty() {
        return reject(0, "empty dump file".into()).map(|()| 0);
    }
    let overflow_error = |line_no: usize, o: Overflow| overflow_at(path, line_no, o);
    let n = bytes.len();
    let mut pos = 0;
    let mut line_no = 0;
    // Dumps list keys in the same order, so the key after index i is usually at i + 1.
    let mut hint = 0usize;
    while pos < n {
        line_no += 1;
        match fast_line(bytes, pos, sink, &mut hint) {
            Fast::Added { next, new_key } => {
                if new_key && sink.len() > MAX_COUNTERS {
                    return Err(too_many_counters(path, line_no));
                }
                counted += 1;
                pos = next;
                continue;
            }
            Fast::Overflow(o) => return Err(overflow_error(line_no, o)),
            Fast::Slow => {}
        }
        // Slow path: blank, malformed, truncated or non-UTF-8 lines.
        let rest = &bytes[pos..];
        let (raw, terminated) = match memchr::memchr(b'\n', rest) {
            Some(i) => {
                pos += i + 1;
                (&rest[..i], true)
            }
            None => {
                pos = n;
                (rest, false)
            }
        };
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if !terminated {
            reject(
                line_no,
                format!(
                    "file ends in the middle of a line ({}): truncated dump?",
                    crate::output::quote(raw)
                ),
            )?;
            continue;
        }
        match split_line(raw) {
            Ok(None) => {}
            Ok(Some((key, value))) => {
                add_key(sink, key, value).map_err(|o| overflow_error(line_no, o))?;
                if sink.len() > MAX_COUNTERS {
                    return Err(too_many_counters(path, line_no));
                }
                counted += 1;
            }
            Err(reason) => reject(line_no, reason)?,
        }
    }
    Ok(counted)
}

/// Parses the bytes of one dump file. `path` is only used in error messages.
pub fn parse_dump(bytes: &[u8], path: &Path, opts: ParseOptions) -> Result<ParsedDump, Error> {
    let mut out = ParsedDump::default();
    parse_into(bytes, path, opts, &mut out.counters, &mut out.malformed)?;
    Ok(out)
}

/// Counters of a dump given as text (tests).
#[cfg(test)]
pub(crate) fn counters_of(text: &str) -> Counters {
    parse_dump(text.as_bytes(), Path::new("t"), ParseOptions::default())
        .unwrap()
        .counters
}

/// Writes counters back in dump format (`key : value` lines). `parse(write(c)) == c`.
pub fn write_dump(counters: &Counters) -> String {
    let mut s = String::new();
    for (k, v) in counters.iter() {
        s.push_str(k);
        s.push_str(" : ");
        s.push_str(&v.to_string());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_line_shapes() {
        let text = "opcode[LOAD_ATTR].specialization.hit : 12\n    opcode[X].execution_count : 5\nCalls via PyEval_EvalFrame[3] : 7\nGC[0] collections: 9\nRare event (set_class): 0\nuops[X].execution_count : 1\n";
        let d = parse_dump(text.as_bytes(), Path::new("a.txt"), ParseOptions::default()).unwrap();
        assert_eq!(d.counters.get("opcode[LOAD_ATTR].specialization.hit"), 12);
        assert_eq!(d.counters.get("opcode[X].execution_count"), 5);
        assert_eq!(d.counters.get("GC[0] collections"), 9);
        assert_eq!(d.counters.get("Rare event (set_class)"), 0);
        assert!(d.counters.contains("Rare event (set_class)"));
        assert_eq!(d.counters.get("uops[_X].execution_count"), 1);
    }

    #[test]
    fn concatenated_dumps_add_up() {
        let text = "a : 1\nb : 2\na : 3\n";
        let d = parse_dump(text.as_bytes(), Path::new("a.txt"), ParseOptions::default()).unwrap();
        assert_eq!(d.counters.get("a"), 4);
    }

    #[test]
    fn malformed_line_names_line() {
        let err = parse_dump(
            b"a : 1\nbogus\n",
            Path::new("x.txt"),
            ParseOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string().split(':').take(2).collect::<Vec<_>>(),
            ["x.txt", "2"]
        );
    }

    #[test]
    fn truncated_and_overflow_are_errors() {
        assert!(parse_dump(b"a : 1\nb : 2", Path::new("x"), ParseOptions::default()).is_err());
        let big = format!("a : {}\na : 1\n", u64::MAX);
        let e = parse_dump(big.as_bytes(), Path::new("x"), ParseOptions::default()).unwrap_err();
        assert!(e.to_string().contains("overflows"));
    }

    #[test]
    fn allow_malformed_counts_lines() {
        let d = parse_dump(
            b"a : 1\n\xff\xfe : 2\nnot a line\n",
            Path::new("x"),
            ParseOptions {
                allow_malformed: true,
            },
        )
        .unwrap();
        assert_eq!(d.malformed.len(), 2);
        assert_eq!(d.counters.get("a"), 1);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn key() -> impl Strategy<Value = String> {
            "[A-Za-z_\\[\\]().0-9][A-Za-z_\\[\\]().0-9 ]{0,24}[A-Za-z_\\[\\]().0-9]"
                .prop_map(|k| normalize_key(&k))
        }

        fn counters() -> impl Strategy<Value = Counters> {
            proptest::collection::vec((key(), any::<u64>()), 0..40).prop_map(|kv| {
                let mut c = Counters::new();
                for (k, v) in kv {
                    c.set(&k, v);
                }
                c
            })
        }

        proptest! {
            #[test]
            fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), lenient: bool) {
                let _ = parse_dump(&bytes, Path::new("r.txt"), ParseOptions { allow_malformed: lenient });
            }

            #[test]
            fn random_lines_never_panic(lines in proptest::collection::vec("[ -~]{0,40}", 0..30)) {
                let text = lines.join("\n") + "\n";
                let _ = parse_dump(text.as_bytes(), Path::new("r.txt"), ParseOptions::default());
                let lenient = parse_dump(text.as_bytes(), Path::new("r.txt"), ParseOptions { allow_malformed: true });
                prop_assert!(lenient.is_ok() || lenient.unwrap_err().to_string().contains("overflows"));
            }

            #[test]
            fn parse_write_parse_is_identity(c in counters()) {
                let text = write_dump(&c);
                let parsed = parse_dump(text.as_bytes(), Path::new("w.txt"), ParseOptions::default());
                if c.is_empty() {
                    prop_assert!(parsed.is_err(), "an empty file is an error");
                } else {
                    let parsed = parsed.unwrap();
                    prop_assert_eq!(&parsed.counters, &c);
                    prop_assert_eq!(write_dump(&parsed.counters), text);
                }
            }

            /// A compacted dump reads like the map it came from, shares its names with an
            /// equal one, and grows like a map again when added to.
            #[test]
            fn compacted_counters_read_and_grow_like_maps(c in counters(), extra in key(), v in 0u64..1000) {
                let mut shapes = KeyShapes::default();
                let mut a = c.clone();
                a.compact(&mut shapes);
                let dense = matches!(a.store, Store::Dense { .. });
                prop_assert!(dense, "compacted");
                prop_assert_eq!(&a, &c);
                prop_assert_eq!(a.iter().collect::<Vec<_>>(), c.iter().collect::<Vec<_>>());
                for (k, value) in c.iter() {
                    prop_assert_eq!(a.get(k), value);
                    prop_assert!(a.contains(k));
                }
                let mut b = c.clone();
                b.compact(&mut shapes);
                match (&a.store, &b.store) {
                    (Store::Dense { shape: x, .. }, Store::Dense { shape: y, .. }) => {
                        prop_assert!(std::sync::Arc::ptr_eq(x, y), "equal names share one shape")
                    }
                    _ => prop_assert!(false, "both compacted"),
                }
                let mut grown = c.clone();
                let (ra, rg) = (a.add(&extra, v), grown.add(&extra, v));
                prop_assert_eq!(ra.is_ok(), rg.is_ok());
                prop_assert_eq!(a.iter().collect::<Vec<_>>(), grown.iter().collect::<Vec<_>>());
            }

            #[test]
            fn interned_names_are_one_pointer(k in key()) {
                let owned = k.clone();
                prop_assert!(std::ptr::eq(intern(&k), intern(&owned)));
                prop_assert_eq!(intern(&k), k.as_str());
            }

            #[test]
            fn aggregation_is_order_independent(dumps in proptest::collection::vec(
                proptest::collection::vec((key(), 0u64..1 << 40), 1..20), 1..6)) {
                let build = |order: &mut dyn Iterator<Item = &Vec<(String, u64)>>| {
                    let mut total = Counters::new();
                    for d in order {
                        for (k, v) in d {
                            total.add(k, *v).unwrap();
                        }
                    }
                    total.iter().map(|(k, v)| (k.to_string(), v)).collect::<std::collections::BTreeMap<_, _>>()
                };
                let forward = build(&mut dumps.iter());
                let backward = build(&mut dumps.iter().rev());
                prop_assert_eq!(forward, backward);
            }
        }
    }
}
