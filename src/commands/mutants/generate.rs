//! Mutant generation: small compilable edits of the specializer source that change specialization decisions.
//!
//! The C source is read line by line: functions are found by brace depth, each function gets
//! the specialization family it works for (from the opcodes, `STAT_INC` and
//! `SPECIALIZATION_FAIL` it names, else from its callers), and operators rewrite one site.
//! No C parser: the edits are textual, and every mutant that does not compile is reported
//! as "not built" instead of being guessed away.

pub use crate::model::mutants::{Mutant, Operator};
use crate::stats::csource::{
    code_of, family_names, family_of_opcode, functions, is_upper_ident, Function,
};
use std::collections::BTreeMap;

impl Mutant {
    /// The mutated file text; errors if the original lines are not where they should be.
    pub fn apply(&self, text: &str) -> Result<String, String> {
        let lines: Vec<&str> = text.split('\n').collect();
        let start = self.line - 1;
        let end = start + self.old.len();
        if end > lines.len()
            || lines[start..end] != self.old.iter().map(String::as_str).collect::<Vec<_>>()[..]
        {
            return Err(format!(
                "{}:{}: the source does not match mutant {}",
                self.file, self.line, self.id
            ));
        }
        let mut out: Vec<&str> = lines[..start].to_vec();
        out.extend(self.new.iter().map(String::as_str));
        out.extend(&lines[end..]);
        Ok(out.join("\n"))
    }

    /// Unified diff of the edit (three lines of context).
    pub fn diff(&self, text: &str) -> String {
        let mutated = self.apply(text).unwrap_or_default();
        similar::TextDiff::from_lines(text, &mutated)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{}", self.file), &format!("b/{}", self.file))
            .to_string()
    }
}

/// Slower forms that are still correct for what the faster one handles (CPython 3.13 names).
const SIBLINGS: &[(&str, &str)] = &[
    ("BINARY_OP_INPLACE_ADD_UNICODE", "BINARY_OP_ADD_UNICODE"),
    ("CALL_BOUND_METHOD_EXACT_ARGS", "CALL_BOUND_METHOD_GENERAL"),
    ("CALL_PY_EXACT_ARGS", "CALL_PY_GENERAL"),
    ("CALL_LEN", "CALL_BUILTIN_O"),
    ("CALL_ISINSTANCE", "CALL_BUILTIN_FAST"),
    ("CALL_LIST_APPEND", "CALL_METHOD_DESCRIPTOR_O"),
    ("CALL_BUILTIN_O", "CALL_NON_PY_GENERAL"),
    ("CALL_BUILTIN_FAST", "CALL_NON_PY_GENERAL"),
    ("CALL_BUILTIN_FAST_WITH_KEYWORDS", "CALL_NON_PY_GENERAL"),
    ("CALL_BUILTIN_CLASS", "CALL_NON_PY_GENERAL"),
    ("CALL_METHOD_DESCRIPTOR_O", "CALL_NON_PY_GENERAL"),
    ("CALL_METHOD_DESCRIPTOR_NOARGS", "CALL_NON_PY_GENERAL"),
    ("CALL_METHOD_DESCRIPTOR_FAST", "CALL_NON_PY_GENERAL"),
    (
        "CALL_METHOD_DESCRIPTOR_FAST_WITH_KEYWORDS",
        "CALL_NON_PY_GENERAL",
    ),
    ("CALL_STR_1", "CALL_NON_PY_GENERAL"),
    ("CALL_TUPLE_1", "CALL_NON_PY_GENERAL"),
    ("CALL_TYPE_1", "CALL_NON_PY_GENERAL"),
    ("UNPACK_SEQUENCE_TWO_TUPLE", "UNPACK_SEQUENCE_TUPLE"),
];

/// Generates every mutant of `text` (the file `file`).
pub fn generate(file: &str, text: &str) -> Vec<Mutant> {
    let lines: Vec<&str> = text.split('\n').collect();
    let families = family_names(&lines);
    let funcs = functions(&lines, &families);
    let mut out = vec![];
    for f in &funcs {
        let Some(family) = f.family.as_deref() else {
            continue;
        };
        let ctx = Ctx {
            file,
            lines: &lines,
            f,
            family,
            families: &families,
            fail: fail_statement(&lines, f),
        };
        for i in f.start..=f.end {
            ctx.at_line(i, &mut out);
        }
    }
    // Stable, unique IDs: file:line:operator, `.2`, `.3`... for a second mutant at one site.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for m in &mut out {
        let base = format!("{}:{}:{}", m.file, m.site, m.operator.key());
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        m.id = if *n == 1 { base } else { format!("{base}.{n}") };
    }
    out
}

/// How a function gives up: `goto fail;`, the return that follows its failures, or the
/// adaptive backoff tail of the functions that fail by falling through to it.
fn fail_statement(lines: &[&str], f: &Function) -> Option<Vec<String>> {
    let body = &lines[f.start..=f.end];
    for label in ["fail", "failure"] {
        if body.iter().any(|l| l.trim() == format!("{label}:")) {
            return Some(vec![format!("goto {label};")]);
        }
    }
    let mut returns: BTreeMap<String, usize> = BTreeMap::new();
    for (k, l) in body.iter().enumerate() {
        if l.trim_start().starts_with("SPECIALIZATION_FAIL(") {
            // The statement may span lines: the next line after the one ending in `;`.
            let mut j = k;
            while j < body.len() && !code_of(body[j]).trim_end().ends_with(';') {
                j += 1;
            }
            if let Some(next) = body.get(j + 1) {
                let t = next.trim();
                if t.starts_with("return") && t.ends_with(';') {
                    *returns.entry(t.to_string()).or_default() += 1;
                }
            }
        }
    }
    if let Some((r, _)) = returns.into_iter().max_by_key(|(_, n)| *n) {
        return Some(vec![r]);
    }
    let backoff = "cache->counter = adaptive_counter_backoff(cache->counter);";
    if body.iter().any(|l| l.trim() == "success:") && body.iter().any(|l| l.trim() == backoff) {
        let fam = f.family.clone()?;
        return Some(vec![
            format!("STAT_INC({fam}, failure);"),
            format!("instr->op.code = {fam};"),
            backoff.to_string(),
            "return;".to_string(),
        ]);
    }
    None
}

/// A line installing a specialized instruction: where, for which family, installing what.
struct Site<'s> {
    i: usize,
    raw: &'s str,
    indent: &'s str,
    family: &'s str,
    what: String,
}

struct Ctx<'a> {
    file: &'a str,
    lines: &'a [&'a str],
    f: &'a Function,
    family: &'a str,
    families: &'a [String],
    fail: Option<Vec<String>>,
}

impl Ctx<'_> {
    fn mutant(
        &self,
        line: usize,
        op: Operator,
        family: &str,
        desc: String,
        old: Vec<String>,
        new: Vec<String>,
    ) -> Mutant {
        Mutant {
            id: String::new(), // set in generate()
            file: self.file.to_string(),
            line,
            site: line,
            operator: op,
            family: family.to_string(),
            function: self.f.name.clone(),
            description: desc,
            old,
            new,
        }
    }

    fn at_line(&self, i: usize, out: &mut Vec<Mutant>) {
        let raw = self.lines[i];
        let code = code_of(raw);
        let t = code.trim();
        let indent: String = raw.chars().take_while(|c| c.is_whitespace()).collect();
        let installed = t
            .strip_prefix("instr->op.code = ")
            .and_then(|r| r.strip_suffix(';'))
            .or_else(|| {
                t.strip_prefix("_Py_SET_OPCODE(*instr, ")?
                    .strip_suffix(");")
            });
        if let Some(rhs) = installed {
            self.success_site(i, raw, rhs, &indent, out);
        }
        if t.starts_with("SPECIALIZATION_FAIL(") && t.ends_with(");") {
            self.fail_kind_site(i, raw, t, out);
        }
        if let Some(cond) = guard_condition(t) {
            if self.is_guard(i) {
                let new = raw.replacen(&format!("({cond})"), &format!("(!({cond}))"), 1);
                out.push(self.mutant(
                    i + 1,
                    Operator::Negate,
                    self.family,
                    format!("{}: negate `{cond}` in {}", self.family, self.f.name),
                    vec![raw.to_string()],
                    vec![new],
                ));
            }
        }
    }

    /// `instr->op.code = RHS;` where RHS names (or selects) specialized instructions.
    fn success_site(&self, i: usize, raw: &str, rhs: &str, indent: &str, out: &mut Vec<Mutant>) {
        let words: Vec<&str> = rhs
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        let specialized: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| {
                is_upper_ident(w) && family_of_opcode(w, self.families).is_some_and(|f| f != *w)
            })
            .collect();
        let is_variable = words.len() == 1 && !is_upper_ident(words[0]);
        if specialized.is_empty() && !is_variable {
            return; // the failure path re-installing the adaptive instruction
        }
        let family = specialized
            .first()
            .and_then(|w| family_of_opcode(w, self.families))
            .unwrap_or(self.family);
        let what = if specialized.is_empty() {
            rhs.to_string()
        } else {
            specialized.join(" / ")
        };
        let site = Site {
            i,
            raw,
            indent,
            family,
            what,
        };
        if let Some(fail) = &self.fail {
            let fam_arg = self
                .nearest_fail_family_arg(i)
                .unwrap_or_else(|| family.to_string());
            out.push(self.remove_mutant(&site, fail, &fam_arg));
            if let Some(at) = self.block_start(i) {
                out.push(self.early_fail_mutant(&site, fail, &fam_arg, at));
            }
        }
        for w in &specialized {
            if let Some((_, to)) = SIBLINGS.iter().find(|(from, _)| from == w) {
                out.push(self.mutant(
                    i + 1,
                    Operator::Sibling,
                    family,
                    format!(
                        "{family}: install the slower {to} instead of {w} in {}",
                        self.f.name
                    ),
                    vec![raw.to_string()],
                    vec![replace_word(raw, w, to)],
                ));
            }
        }
    }

    /// The success line replaced by a failure (`SPEC_FAIL_OTHER`) and the give-up statement.
    fn remove_mutant(&self, site: &Site, fail: &[String], fam_arg: &str) -> Mutant {
        let (family, indent, kind) = (site.family, site.indent, "SPEC_FAIL_OTHER");
        let mut new = vec![format!("{indent}SPECIALIZATION_FAIL({fam_arg}, {kind});")];
        new.extend(fail.iter().map(|s| format!("{indent}{s}")));
        self.mutant(
            site.i + 1,
            Operator::Remove,
            family,
            format!(
                "{family}: fail ({kind}) instead of installing {} in {}",
                site.what, self.f.name
            ),
            vec![site.raw.to_string()],
            new,
        )
    }

    /// A failure (with the nearest failure kind) at the start of the block `at` that leads
    /// to the success line; the mutant's site is the success line.
    fn early_fail_mutant(&self, site: &Site, fail: &[String], fam_arg: &str, at: usize) -> Mutant {
        let kind = self
            .nearest_fail_kind(site.i)
            .unwrap_or_else(|| "SPEC_FAIL_OTHER".into());
        let inner: String = self.lines[at + 1]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        let inner = if inner.is_empty() {
            site.indent.to_string()
        } else {
            inner
        };
        let mut new = vec![
            self.lines[at].to_string(),
            format!("{inner}SPECIALIZATION_FAIL({fam_arg}, {kind});"),
        ];
        new.extend(fail.iter().map(|s| format!("{inner}{s}")));
        let family = site.family;
        let mut m = self.mutant(
            at + 1,
            Operator::EarlyFail,
            family,
            format!(
                "{family}: fail early ({kind}) on the path installing {} (line {}) in {}",
                site.what,
                site.i + 1,
                self.f.name
            ),
            vec![self.lines[at].to_string()],
            new,
        );
        m.site = site.i + 1;
        m
    }

    /// `SPECIALIZATION_FAIL(F, SPEC_FAIL_X);` on one line: record SPEC_FAIL_OTHER instead.
    fn fail_kind_site(&self, i: usize, raw: &str, t: &str, out: &mut Vec<Mutant>) {
        let inner = &t["SPECIALIZATION_FAIL(".len()..t.len() - 2];
        let Some((fam_arg, kind)) = inner.split_once(',') else {
            return;
        };
        let kind = kind.trim();
        if !is_upper_ident(kind) || !kind.starts_with("SPEC_FAIL_") {
            return;
        }
        let to = if kind == "SPEC_FAIL_OTHER" {
            "SPEC_FAIL_OUT_OF_RANGE"
        } else {
            "SPEC_FAIL_OTHER"
        };
        let family = family_of_opcode(fam_arg.trim(), self.families).unwrap_or(self.family);
        out.push(self.mutant(
            i + 1,
            Operator::FailKind,
            family,
            format!("{family}: record {to} instead of {kind} in {}", self.f.name),
            vec![raw.to_string()],
            vec![replace_word(raw, kind, to)],
        ));
    }

    /// A guard: an `if` whose block starts with a failure or installs a specialized form.
    fn is_guard(&self, i: usize) -> bool {
        let mut j = i + 1;
        let mut seen = 0;
        while j <= self.f.end && seen < 2 {
            let t = code_of(self.lines[j]).trim();
            j += 1;
            if t.is_empty() || t == "{" {
                continue;
            }
            seen += 1;
            if t.starts_with("SPECIALIZATION_FAIL(") || t.starts_with("goto fail") {
                return true;
            }
            if let Some(rhs) = t.strip_prefix("instr->op.code = ") {
                return rhs.trim_end_matches(';') != self.family;
            }
            if t.starts_with("if ") || t.starts_with("if(") {
                return false;
            }
        }
        false
    }

    /// The `{` line opening the innermost block around line `i`, unless that block is the
    /// function body or a `switch` (an edit there would be unreachable or fail everything).
    fn block_start(&self, i: usize) -> Option<usize> {
        let mut depth = 0i32;
        let mut j = i;
        while j > self.f.start {
            j -= 1;
            let code = code_of(self.lines[j]);
            for c in code.chars().rev() {
                match c {
                    '}' => depth += 1,
                    '{' => {
                        if depth == 0 {
                            if j == self.f.start {
                                return None;
                            }
                            let t = code.trim();
                            // A multi-line `switch (...) {` header starts lines above.
                            let head = code_of(self.lines[self.statement_start(j)]).trim();
                            let usable = t.ends_with('{')
                                && !head.starts_with("switch")
                                && !t.starts_with("case")
                                && !t.contains("default:");
                            return usable.then_some(j);
                        }
                        depth -= 1;
                    }
                    _ => {}
                }
            }
        }
        None
    }

    /// The first line of the statement that line `j` ends: earlier lines belong to it while
    /// they do not end a statement, a block or a label.
    fn statement_start(&self, j: usize) -> usize {
        let mut s = j;
        while s > self.f.start {
            let prev = code_of(self.lines[s - 1]);
            let prev = prev.trim_end();
            if prev.is_empty() || prev.ends_with([';', '{', '}', ':']) || prev.starts_with('#') {
                break;
            }
            s -= 1;
        }
        s
    }

    fn fail_sites_before(&self, i: usize) -> impl Iterator<Item = (String, String)> + '_ {
        (self.f.start..i).rev().filter_map(|j| {
            let t = code_of(self.lines[j]).trim();
            let inner = t.strip_prefix("SPECIALIZATION_FAIL(")?.strip_suffix(");")?;
            let (a, k) = inner.split_once(',')?;
            Some((a.trim().to_string(), k.trim().to_string()))
        })
    }

    fn nearest_fail_kind(&self, i: usize) -> Option<String> {
        self.fail_sites_before(i)
            .map(|(_, k)| k)
            .find(|k| is_upper_ident(k) && k.starts_with("SPEC_FAIL_"))
    }

    fn nearest_fail_family_arg(&self, i: usize) -> Option<String> {
        self.fail_sites_before(i).map(|(a, _)| a).next()
    }
}

/// The condition of a one-line `if (COND) {` / `} else if (COND) {` / `if (COND)`.
fn guard_condition(t: &str) -> Option<&str> {
    let rest = t
        .strip_prefix("} else if ")
        .or_else(|| t.strip_prefix("else if "))
        .or_else(|| t.strip_prefix("if "))?;
    let rest = rest.strip_suffix('{').unwrap_or(rest).trim_end();
    let cond = rest.strip_prefix('(')?.strip_suffix(')')?;
    // Balanced, and the outer parentheses are one pair.
    let mut depth = 0i32;
    for c in cond.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    (depth == 0 && !cond.is_empty()).then_some(cond)
}

/// Replaces whole-word occurrences of `from` with `to`.
fn replace_word(line: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(p) = rest.find(from) {
        let before_ok = rest[..p]
            .chars()
            .last()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let after = &rest[p + from.len()..];
        let after_ok = after
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        out.push_str(&rest[..p]);
        out.push_str(if before_ok && after_ok { to } else { from });
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "\
static int
specialize_thing(PyObject *o, _Py_CODEUNIT *instr)
{
    if (!PyLong_CheckExact(o)) {
        SPECIALIZATION_FAIL(THING, SPEC_FAIL_THING_TYPE);
        return -1;
    }
    instr->op.code = THING_INT;
    return 0;
}

void
_Py_Specialize_Thing(PyObject *o, _Py_CODEUNIT *instr)
{
    if (specialize_thing(o, instr)) {
        goto fail;
    }
    STAT_INC(THING, success);
    return;
fail:
    STAT_INC(THING, failure);
    instr->op.code = THING;
}
";

    #[test]
    fn every_operator_on_a_small_specializer() {
        let ms = generate("Python/x.c", SRC);
        let ids: Vec<&str> = ms.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "Python/x.c:4:negate",
                "Python/x.c:5:fail-kind",
                "Python/x.c:8:remove",
                "Python/x.c:15:negate",
            ]
        );
        assert!(ms.iter().all(|m| m.family == "THING"));
        let remove = &ms[2];
        assert_eq!(remove.function, "specialize_thing");
        assert_eq!(
            remove.new,
            [
                "    SPECIALIZATION_FAIL(THING, SPEC_FAIL_OTHER);",
                "    return -1;"
            ]
        );
        let negate = &ms[0];
        assert_eq!(negate.new, ["    if (!(!PyLong_CheckExact(o))) {"]);
        let mutated = remove.apply(SRC).unwrap();
        assert!(mutated.contains("SPEC_FAIL_OTHER);\n    return -1;\n    return 0;"));
        assert!(remove
            .diff(SRC)
            .contains("-    instr->op.code = THING_INT;"));
        // A source that moved is refused, not patched blindly.
        assert!(remove
            .apply(&SRC.replace("THING_INT", "THING_LONG"))
            .is_err());
    }

    #[test]
    fn guard_conditions_and_word_replacement() {
        assert_eq!(guard_condition("if (a == b) {"), Some("a == b"));
        assert_eq!(guard_condition("} else if (f(x)) {"), Some("f(x)"));
        assert_eq!(guard_condition("if (a) && (b) {"), None);
        assert_eq!(guard_condition("x = 1;"), None);
        assert_eq!(
            replace_word("A = A_B ? A : B;", "A", "C"),
            "C = A_B ? C : B;"
        );
    }
}
