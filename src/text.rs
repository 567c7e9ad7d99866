//! Helpers every layer shares: thousands separators, HTML escaping, bounded input reading and input limits, written once.

/// Inserts `,` thousands separators into the integer part of a formatted number
/// (`-1234.5` -> `-1,234.5`), as summarize_stats.py's `{:,}` does.
pub fn group_digits(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    out.push_str(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out.push_str(frac);
    out
}

/// `v` with `decimals` fixed decimals and thousands separators (`1,310,759.3`); a value
/// that rounds to zero has no sign.
pub fn group_fixed(v: f64, decimals: usize) -> String {
    if !v.is_finite() || v.abs() >= 1e15 {
        return format!("{v:.decimals$}");
    }
    let text = format!("{:.decimals$}", v.abs());
    let negative = v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0');
    let grouped = group_digits(&text);
    if negative {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn html_escape(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

/// The most bytes an input text file (rules, noise, manifest, history, result JSON, corpus
/// manifest) may hold: a device such as `/dev/zero` given as one never ends.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// [`std::fs::read_to_string`] that stops after [`MAX_INPUT_BYTES`] with an error, so an
/// endless input (a device, a runaway file) is refused instead of exhausting memory.
pub fn read_input(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_INPUT_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} MiB: not an input of pystats-gate",
                MAX_INPUT_BYTES >> 20
            ),
        ));
    }
    Ok(text)
}

/// [`read_input`] for a file found inside a directory the tool reads (a set's manifest, a
/// corpus manifest, a mutant result): it must be a regular file, since opening a FIFO
/// placed there would wait forever for a writer.
pub fn read_regular_input(path: &std::path::Path) -> std::io::Result<String> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    read_input(path)
}

/// The most repeats a run, a manifest or `--max-repeats` may ask for: repeats are
/// materialised as (benchmark x repeat) work units, and no real gate needs more.
pub const MAX_REPEATS: u32 = 10_000;

/// The most bytes of untrusted input any message quotes.
pub const QUOTE_BYTES: usize = 200;
/// The most items of a list any message names (the rest are counted).
pub const LIST_ITEMS: usize = 10;

/// Names at most [`LIST_ITEMS`] items, each cut to [`QUOTE_BYTES`], joined by `sep`;
/// the rest are counted ("... and 4990 more"). Every message listing names uses it.
pub fn cap_list<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    let mut shown: Vec<String> = items
        .iter()
        .take(LIST_ITEMS)
        .map(|s| cap(s.as_ref()))
        .collect();
    if items.len() > LIST_ITEMS {
        shown.push(format!("... and {} more", items.len() - LIST_ITEMS));
    }
    shown.join(sep)
}

/// `text` cut to [`QUOTE_BYTES`] (at a character boundary), unquoted, the cut said.
pub fn cap(text: &str) -> String {
    if text.len() <= QUOTE_BYTES {
        return text.to_string();
    }
    let mut end = QUOTE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &text[..end], text.len())
}

/// Reads an object of an input file into a map, refusing a key given twice: serde keeps
/// the last value and drops the other without a word (a history entry's metric, a JSON
/// noise file's metric). For `#[serde(deserialize_with = "crate::text::unique_keys")]`.
pub fn unique_keys<'de, D, V, M>(d: D) -> Result<M, D::Error>
where
    D: serde::Deserializer<'de>,
    V: serde::Deserialize<'de>,
    M: FromIterator<(String, V)>,
{
    struct Keys<V>(std::marker::PhantomData<V>);
    impl<'de, V: serde::Deserialize<'de>> serde::de::Visitor<'de> for Keys<V> {
        type Value = Vec<(String, V)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            let mut seen = std::collections::HashSet::new();
            let mut out = vec![];
            while let Some(key) = a.next_key::<String>()? {
                if !seen.insert(key.clone()) {
                    return Err(serde::de::Error::custom(format!(
                        "key {:?} given twice: one of its values would be dropped",
                        cap(&key)
                    )));
                }
                out.push((key, a.next_value()?));
            }
            Ok(out)
        }
    }
    Ok(d.deserialize_map(Keys(std::marker::PhantomData))?
        .into_iter()
        .collect())
}

/// Quotes at most a few hundred bytes of untrusted input for an error message.
pub fn quote(bytes: &[u8]) -> String {
    const MAX: usize = QUOTE_BYTES;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]);
    let text = text.trim();
    if bytes.len() > MAX {
        format!("{text:?}... ({} bytes in all)", bytes.len())
    } else {
        format!("{text:?}")
    }
}

/// The longest glob pattern accepted (rules' `metric` and `benchmarks`, `--filter`,
/// `--accept`, `--bench`, `--metric`, `--only`): real ones are tens of bytes.
pub const GLOB_MAX_BYTES: usize = 1000;
/// The most wildcards, classes and alternations (`*`, `?`, `[`, `{`, `,`) in one glob:
/// each grows the matcher globset compiles, which panics past its size limit.
pub const GLOB_MAX_SPECIALS: usize = 64;

/// Parses a glob within [`GLOB_MAX_BYTES`] and [`GLOB_MAX_SPECIALS`], so that compiling
/// its matcher can never exceed globset's regex size limit (a panic there). The error says
/// what is wrong without quoting the pattern; the caller names the key or option.
pub fn glob(pattern: &str) -> Result<globset::Glob, String> {
    if pattern.len() > GLOB_MAX_BYTES {
        return Err(format!(
            "glob of {} bytes (at most {GLOB_MAX_BYTES})",
            pattern.len()
        ));
    }
    let specials = pattern
        .bytes()
        .filter(|b| matches!(b, b'*' | b'?' | b'[' | b'{' | b','))
        .count();
    if specials > GLOB_MAX_SPECIALS {
        return Err(format!(
            "glob with {specials} wildcards, classes and alternatives (at most {GLOB_MAX_SPECIALS})"
        ));
    }
    globset::Glob::new(pattern).map_err(|e| format!("bad glob: {}", e.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_bounds_the_message() {
        let big = vec![b'x'; 10_000_000];
        let q = quote(&big);
        assert!(q.len() < 300, "{}", q.len());
        assert!(q.contains("10000000 bytes"));
        let names: Vec<String> = (0..5000)
            .map(|i| format!("{i}{}", "n".repeat(1000)))
            .collect();
        let l = cap_list(&names, ", ");
        assert!(
            l.len() < 4000 && l.ends_with("... and 4990 more"),
            "{}",
            l.len()
        );
    }

    #[test]
    fn the_largest_accepted_globs_compile() {
        // The worst shapes within the bounds: every special a class or an alternation.
        for unit in ["[!a]", "[^\u{10ffff}]", "{a,b}", "*?", "[a-\u{10fff0}]"] {
            let mut p = String::new();
            while p.len() + unit.len() <= GLOB_MAX_BYTES
                && p.bytes().filter(|b| b"*?[{,".contains(b)).count() + 2 <= GLOB_MAX_SPECIALS
            {
                p.push_str(unit);
            }
            let g = glob(&p).unwrap_or_else(|e| panic!("{unit}: {e}"));
            let _ = g.compile_matcher().is_match("family.LOAD_ATTR.miss_ratio");
        }
        assert!(glob(&"a".repeat(GLOB_MAX_BYTES + 1)).is_err());
        assert!(glob(&"*".repeat(GLOB_MAX_SPECIALS + 1)).is_err());
    }

    #[test]
    fn groups_digits_like_python() {
        assert_eq!(group_digits("1234567"), "1,234,567");
        assert_eq!(group_digits("-1234.5"), "-1,234.5");
        assert_eq!(group_digits("12"), "12");
        assert_eq!(group_digits("123456.78"), "123,456.78");
    }

    #[test]
    fn fixed_decimals_grouped() {
        assert_eq!(group_fixed(1310759.34, 1), "1,310,759.3");
        assert_eq!(group_fixed(-713204.0, 0), "-713,204");
        assert_eq!(group_fixed(-0.04, 1), "0.0");
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            html_escape(r#"<a href="x">&</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
