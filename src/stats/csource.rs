//! The specializer's C source read as text: functions and their families (specialize.c), instruction definitions (bytecodes.c).
//!
//! No C parser: functions are found by brace depth, each gets the specialization family it
//! works for (from the opcodes, `STAT_INC` and `SPECIALIZATION_FAIL` it names, else from its
//! callers). Shared by `mutants` (which edits these functions) and the gate's reach check
//! (which maps changed lines to the counters that see them).

use std::collections::BTreeMap;

/// A function of the source: name, body line range (0-based, inclusive), family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    /// First and last line of the body (0-based, inclusive; `start` holds the `{`).
    pub start: usize,
    pub end: usize,
    /// The specialization family it works for, if any.
    pub family: Option<String>,
}

/// Family names: first arguments of `STAT_INC(X, failure|success)`.
pub fn family_names(lines: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for l in lines {
        if let Some(rest) = l.trim().strip_prefix("STAT_INC(") {
            if let Some((name, what)) = rest.split_once(',') {
                let what = what.trim().trim_end_matches(");");
                if (what == "failure" || what == "success")
                    && is_upper_ident(name)
                    && !out.iter().any(|f| f == name)
                {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

pub fn is_upper_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// The family an opcode name belongs to (longest family-name prefix), or the name itself.
pub fn family_of_opcode<'a>(op: &str, families: &'a [String]) -> Option<&'a str> {
    families
        .iter()
        .filter(|f| {
            op == f.as_str()
                || (op.starts_with(f.as_str()) && op.as_bytes().get(f.len()) == Some(&b'_'))
        })
        .max_by_key(|f| f.len())
        .map(String::as_str)
}

/// Line text without comments (line comments and one-line block comments).
pub fn code_of(line: &str) -> &str {
    let l = line.split("//").next().unwrap_or("");
    l.split("/*").next().unwrap_or("")
}

/// Finds function bodies by brace depth; names come from the signature before the `{`.
pub fn functions(lines: &[&str], families: &[String]) -> Vec<Function> {
    let mut out = vec![];
    let mut depth = 0i32;
    let mut sig = String::new();
    let mut in_comment = false;
    let mut in_macro = false;
    let mut current: Option<(String, usize)> = None;
    for (i, raw) in lines.iter().enumerate() {
        let mut line = raw.to_string();
        if in_comment {
            match line.find("*/") {
                Some(p) => {
                    line = line[p + 2..].to_string();
                    in_comment = false;
                }
                None => continue,
            }
        }
        if in_macro || line.trim_start().starts_with('#') {
            in_macro = line.trim_end().ends_with('\\');
            continue;
        }
        if let Some(p) = line.find("/*") {
            if !line[p..].contains("*/") {
                in_comment = true;
                line.truncate(p);
            }
        }
        let code = code_of(&line).to_string();
        for c in code.chars() {
            match c {
                '{' => {
                    if depth == 0 && sig.contains('(') && !sig.contains('=') {
                        let before = sig.split('(').next().unwrap_or("");
                        let name = before
                            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .rfind(|s| !s.is_empty())
                            .unwrap_or("")
                            .to_string();
                        current = Some((name, i));
                    }
                    depth += 1;
                    sig.clear();
                }
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        if let Some((name, start)) = current.take() {
                            out.push(Function {
                                name,
                                start,
                                end: i,
                                family: None,
                            });
                        }
                    }
                    sig.clear();
                }
                ';' if depth == 0 => sig.clear(),
                _ if depth == 0 => sig.push(c),
                _ => {}
            }
        }
        if depth == 0 {
            sig.push('\n');
        }
    }
    assign_families(&mut out, lines, families);
    out
}

/// Each function's family: its own (most named in the body); else the family of its
/// callers (two rounds).
fn assign_families(out: &mut [Function], lines: &[&str], families: &[String]) {
    for f in out.iter_mut() {
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for l in &lines[f.start..=f.end] {
            for fam in families_named(l, families) {
                *count.entry(fam).or_default() += 1;
            }
        }
        if let Some(n) = f.name.strip_prefix("_Py_Specialize_") {
            // _Py_Specialize_LoadAttr -> LOAD_ATTR wins over everything else.
            let snake = camel_to_upper_snake(n);
            if let Some(fam) = families.iter().find(|f| **f == snake) {
                *count.entry(fam.as_str()).or_default() += 1000;
            }
        }
        f.family = count
            .into_iter()
            .max_by_key(|(name, n)| (*n, std::cmp::Reverse(*name)))
            .map(|(name, _)| name.to_string());
    }
    for _ in 0..2 {
        let known: Vec<(String, String, usize, usize)> = out
            .iter()
            .filter_map(|f| {
                f.family
                    .clone()
                    .map(|fam| (f.name.clone(), fam, f.start, f.end))
            })
            .collect();
        for f in out.iter_mut().filter(|f| f.family.is_none()) {
            let call = format!("{}(", f.name);
            f.family = known
                .iter()
                .find(|(_, _, s, e)| lines[*s..=*e].iter().any(|l| code_of(l).contains(&call)))
                .map(|(_, fam, _, _)| fam.clone());
        }
    }
}

fn camel_to_upper_snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Families a line names: installed opcodes, `STAT_INC`/`SPECIALIZATION_FAIL` first arguments.
fn families_named<'a>(line: &str, families: &'a [String]) -> Vec<&'a str> {
    let code = code_of(line);
    let mut out = vec![];
    for word in code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if is_upper_ident(word) && word.contains('_') {
            if let Some(f) = family_of_opcode(word, families) {
                out.push(f);
            }
        }
    }
    out
}

/// Each line's code: comments (line and block, also across lines) and string/char literal
/// contents' comment markers removed, whitespace runs collapsed to one space, trimmed. Two
/// texts whose views are equal differ only in comments, blank lines and layout.
pub fn code_view(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut in_block = false;
    for raw in text.split('\n') {
        let mut code = String::new();
        let mut chars = raw.chars().peekable();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            if in_block {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    in_block = false;
                    code.push(' ');
                }
                continue;
            }
            if let Some(q) = quote {
                code.push(c);
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        code.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '/' if chars.peek() == Some(&'/') => break,
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    in_block = true;
                }
                '"' | '\'' => {
                    quote = Some(c);
                    code.push(c);
                }
                _ => code.push(c),
            }
        }
        out.push(code.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    out
}

/// What a bytecodes.c definition defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefKind {
    /// `inst(NAME, ...)`: an instruction.
    Inst,
    /// `op(NAME, ...)`: a micro-op, part of the `macro`s that name it.
    Op,
    /// `macro(NAME) = ...;`: an instruction made of micro-ops.
    Macro,
    /// `family(NAME, ...) = { ... };`: the specialized forms of NAME.
    Family,
    /// `pseudo(NAME) = { ... };`: a compiler-only name, never executed as such.
    Pseudo,
}

/// One definition of bytecodes.c: its kind, name, line range (0-based, inclusive) and, for a
/// `macro`, the names its body lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub kind: DefKind,
    pub name: String,
    pub start: usize,
    pub end: usize,
    pub parts: Vec<String>,
}

/// The `inst`/`op`/`macro`/`family`/`pseudo` definitions of bytecodes.c (after modifiers
/// such as `pure`, `specializing`, `tier1`), each ending where its braces close or, for the
/// `= ...;` forms, at the `;`.
pub fn definitions(code: &[String]) -> Vec<Definition> {
    let mut out: Vec<Definition> = vec![];
    let mut i = 0;
    while i < code.len() {
        let Some((kind, name)) = definition_head(&code[i]) else {
            i += 1;
            continue;
        };
        let mut depth = 0i32;
        let mut end = i;
        let mut body = String::new();
        'lines: for (j, line) in code.iter().enumerate().skip(i) {
            end = j;
            body.push(' ');
            for c in line.chars() {
                body.push(c);
                match c {
                    '{' | '(' => depth += 1,
                    '}' | ')' => {
                        depth -= 1;
                        if depth == 0 && c == '}' {
                            break 'lines;
                        }
                    }
                    ';' if depth == 0 => break 'lines,
                    _ => {}
                }
            }
        }
        let parts = match kind {
            DefKind::Macro => body
                .split_once('=')
                .map(|(_, rhs)| words(rhs).map(str::to_string).collect())
                .unwrap_or_default(),
            _ => vec![],
        };
        out.push(Definition {
            kind,
            name,
            start: i,
            end,
            parts,
        });
        i = end + 1;
    }
    out
}

/// `inst(NAME` etc. at the start of a code line (after modifier words).
fn definition_head(line: &str) -> Option<(DefKind, String)> {
    // `replicate(8) pure inst(LOAD_FAST, ...)`: the replication count is a modifier too.
    let line = match line.strip_prefix("replicate(") {
        Some(rest) => rest.split_once(')')?.1,
        None => line,
    };
    let open = line.find('(')?;
    let (before, after) = (&line[..open], &line[open + 1..]);
    let mut ws = before.split_whitespace();
    let keyword = ws.next_back()?;
    if !ws.all(|w| {
        w.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    }) {
        return None;
    }
    let kind = match keyword {
        "inst" => DefKind::Inst,
        "op" => DefKind::Op,
        "macro" => DefKind::Macro,
        "family" => DefKind::Family,
        "pseudo" => DefKind::Pseudo,
        _ => return None,
    };
    let name: String = after
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some((kind, name))
}

/// The identifiers of a code line.
pub fn words(code: &str) -> impl Iterator<Item = &str> {
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit()))
}

/// The innermost brace block (0-based line of its `{`, line of its `}`) enclosing line `at`
/// strictly inside `within` (a function's body range), from the code view.
pub fn enclosing_block(
    code: &[String],
    within: (usize, usize),
    at: usize,
) -> Option<(usize, usize)> {
    // Open braces on the way down to `at`, innermost last.
    let mut open: Vec<usize> = vec![];
    // A `} else {` line closes the block before it: that one no longer encloses it.
    let before_at = code[at].rfind('{').map_or("", |last| &code[at][..last]);
    let lines = code.iter().enumerate().take(at).skip(within.0 + 1);
    for (j, c) in braces(lines.map(|(j, l)| (j, l.as_str())).chain([(at, before_at)])) {
        match c {
            '{' => open.push(j),
            _ => {
                open.pop();
            }
        }
    }
    let start = *open.iter().rev().find(|s| **s != at)?;
    block_end(code, start, within.1).map(|end| (start, end))
}

/// The braces of `(line number, text)` pairs, in order.
fn braces<'a>(
    lines: impl Iterator<Item = (usize, &'a str)> + 'a,
) -> impl Iterator<Item = (usize, char)> + 'a {
    lines.flat_map(|(j, l)| {
        l.chars()
            .filter(|c| *c == '{' || *c == '}')
            .map(move |c| (j, c))
    })
}

/// The line holding the `}` that closes the last `{` opened on line `start`.
pub fn block_end(code: &[String], start: usize, limit: usize) -> Option<usize> {
    let last_open = code[start].rfind('{')?;
    let rest = std::iter::once((start, &code[start][last_open + 1..]));
    let after = code.iter().enumerate().take(limit + 1).skip(start + 1);
    let mut depth = 1i32;
    for (j, c) in braces(rest.chain(after.map(|(j, l)| (j, l.as_str())))) {
        depth += if c == '{' { 1 } else { -1 };
        if depth == 0 {
            return Some(j);
        }
    }
    None
}

/// Lines of the block `(start, end)` at its own depth (not inside a nested block), with the
/// depth counted from the code view; a `switch` block is cut to the `case` segment holding
/// line `at` (a case's statements belong to their label, not to their neighbours).
pub fn direct_lines(code: &[String], (start, end): (usize, usize), at: usize) -> Vec<usize> {
    let mut depth = 0i32;
    let mut lines = vec![];
    for (j, line) in code.iter().enumerate().take(end).skip(start + 1) {
        if depth == 0 && !line.is_empty() {
            lines.push(j);
        }
        for c in line.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
        }
    }
    let is_label = |j: &usize| code[*j].starts_with("case ") || code[*j].starts_with("default:");
    if lines.iter().any(is_label) {
        let from = lines
            .iter()
            .rposition(|j| *j <= at && is_label(j))
            .unwrap_or(0);
        let to = lines
            .iter()
            .skip(from + 1)
            .position(is_label)
            .map(|p| from + 1 + p)
            .unwrap_or(lines.len());
        lines = lines[from..to].to_vec();
    }
    lines
}
