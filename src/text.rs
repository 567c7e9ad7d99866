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

#[cfg(test)]
mod tests {
    use super::*;

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
