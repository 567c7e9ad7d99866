//! What the change touches and the corpus reaches: changed specializer lines mapped to the counters that see them.
//!
//! A gate that passes because no counter moved has only seen something if the corpus runs
//! the changed code at all. The changed lines of Python/specialize.c and Python/bytecodes.c
//! (comment, blank-line and layout changes left out) are mapped to the most specific
//! counter that counts their execution: a `SPECIALIZATION_FAIL` site's failure kind, a
//! specialized instruction's execution count, else the family's successes and failures. A
//! place is reached when one of its counters is non-zero in base or head; the verdict reads
//! [`Reach::unreached`]. Other files are listed as not mapped (no claim either way).

use crate::gate::metrics::failure_kind_name;
use crate::stats::csource::{self, DefKind, Function};
use crate::stats::metadata::{failure_kind_define, Metadata};
use crate::stats::model::FailureKind;
use serde::{Deserialize, Serialize};

/// The files whose lines are mapped to counters.
pub const MAPPED_FILES: &[&str] = &["Python/specialize.c", "Python/bytecodes.c"];

/// What a place's counter measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    /// A failure path: the failure kind its `SPECIALIZATION_FAIL` records.
    FailureKind,
    /// A specialized (or, in bytecodes.c, any) instruction: its execution count.
    Instruction,
    /// Anywhere else in a specializer function: its family's successes and failures.
    Family,
}

/// A run of changed lines mapped to one set of counters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub file: String,
    /// First and last changed line (1-based, head side).
    pub line: usize,
    pub end_line: usize,
    /// The C function, or the bytecodes.c definition (`inst(NAME)`, `op(NAME)`...).
    pub scope: String,
    pub kind: PlaceKind,
    /// Metric names; the place is reached when any is non-zero in base or head.
    pub counters: Vec<String>,
    /// Set by the gate from its metric tables.
    #[serde(default)]
    pub reached: bool,
}

impl Place {
    /// `Python/specialize.c:120` or `Python/specialize.c:120-124`.
    pub fn location(&self) -> String {
        if self.end_line > self.line {
            format!("{}:{}-{}", self.file, self.line, self.end_line)
        } else {
            format!("{}:{}", self.file, self.line)
        }
    }
}

/// The changed specializer code and which of it the corpus executes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reach {
    /// Base and head revisions the change was read between.
    pub base: String,
    pub head: String,
    pub places: Vec<Place>,
    /// Changed files, or changed lines of mapped files, no counter is mapped to: no claim.
    pub not_mapped: Vec<String>,
}

/// One changed file: its path and text on each side (`None`: absent there, or not read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedFile {
    pub path: String,
    pub base: Option<String>,
    pub head: Option<String>,
}

/// What the gate tells a reader about changed code the corpus never runs.
pub const UNREACHED_ADVICE: &str = "the corpus never executes this: the gate cannot see it; add a corpus program that reaches it (corpus/README.md)";

impl Reach {
    /// Maps the changed files between `base` and `head` (metadata of the head side names
    /// the instructions and failure kinds).
    pub fn from_files(base: &str, head: &str, files: &[ChangedFile], meta: &Metadata) -> Reach {
        let mut reach = Reach {
            base: base.to_string(),
            head: head.to_string(),
            ..Default::default()
        };
        for f in files {
            let mapped = MAPPED_FILES.contains(&f.path.as_str());
            match (&f.head, mapped) {
                (Some(head), true) => {
                    let base_text = f.base.as_deref().unwrap_or("");
                    let lines = changed_lines(base_text, head);
                    let (places, not_mapped) = map_lines(&f.path, head, &lines, meta);
                    reach.places.extend(places);
                    reach.not_mapped.extend(not_mapped);
                }
                (None, true) => reach.not_mapped.push(format!("{} (deleted)", f.path)),
                _ => reach.not_mapped.push(f.path.clone()),
            }
        }
        reach
    }

    /// Marks each place reached when `nonzero` says one of its counters is non-zero.
    pub fn mark_reached(&mut self, nonzero: impl Fn(&str) -> bool) {
        for p in &mut self.places {
            p.reached = p.counters.iter().any(|c| nonzero(c));
        }
    }

    pub fn unreached(&self) -> impl Iterator<Item = &Place> {
        self.places.iter().filter(|p| !p.reached)
    }

    pub fn reached(&self) -> impl Iterator<Item = &Place> {
        self.places.iter().filter(|p| p.reached)
    }

    /// The loud note when the change touches places the corpus never executes.
    pub fn note(&self) -> Option<String> {
        let unreached: Vec<&Place> = self.unreached().collect();
        if unreached.is_empty() {
            return None;
        }
        const SHOWN: usize = 5;
        let mut named: Vec<String> = unreached
            .iter()
            .take(SHOWN)
            .map(|p| {
                format!(
                    "{} ({}: {} = 0 in base and head)",
                    p.location(),
                    p.scope,
                    p.counters.join(" / ")
                )
            })
            .collect();
        if unreached.len() > SHOWN {
            named.push(format!(
                "and {} more (report.json `reach`)",
                unreached.len() - SHOWN
            ));
        }
        Some(format!(
            "UNREACHED CHANGE: {} of {} changed place(s): {}: {UNREACHED_ADVICE}",
            unreached.len(),
            self.places.len(),
            named.join("; ")
        ))
    }
}

/// Head-side lines (0-based) whose code changed: the code views of both sides are diffed,
/// so comment, blank-line and whitespace edits drop out. A deletion counts at the head
/// line that follows it.
pub fn changed_lines(base: &str, head: &str) -> Vec<usize> {
    let (b, h) = (csource::code_view(base), csource::code_view(head));
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &b, &h);
    let mut out = vec![];
    let last = h.len().saturating_sub(1);
    for op in ops {
        let (_, old, new) = op.as_tag_tuple();
        let added: Vec<usize> = new.clone().filter(|j| !h[*j].is_empty()).collect();
        let removed = old.clone().any(|j| !b[j].is_empty());
        if added.is_empty() && removed {
            out.push(new.start.min(last));
        }
        if !matches!(op, similar::DiffOp::Equal { .. }) {
            out.extend(added);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Where one changed line lands: its scope and counters, or why it maps to none.
type Landing = Result<(String, PlaceKind, Vec<String>), String>;

/// Places (consecutive lines with the same landing merged) and not-mapped line ranges.
pub fn map_lines(
    path: &str,
    head: &str,
    lines: &[usize],
    meta: &Metadata,
) -> (Vec<Place>, Vec<String>) {
    let code = csource::code_view(head);
    let raw: Vec<&str> = head.split('\n').collect();
    let landing: Box<dyn Fn(usize) -> Landing> = if path.ends_with("bytecodes.c") {
        let defs = csource::definitions(&code);
        Box::new(move |i| bytecodes_landing(&defs, i))
    } else {
        let families = csource::family_names(&raw);
        let mut funcs = csource::functions(&raw, &families);
        keep_specializers(&code, &mut funcs, meta);
        let code = code.clone();
        Box::new(move |i| {
            Specializer {
                code: &code,
                funcs: &funcs,
                families: &families,
                meta,
            }
            .landing(i)
        })
    };
    let mut places: Vec<Place> = vec![];
    let mut unmapped: Vec<(usize, usize, String)> = vec![];
    for &i in lines {
        let n = i + 1;
        match landing(i) {
            Ok((scope, kind, counters)) => match places.last_mut() {
                Some(p) if p.end_line + 1 == n && p.scope == scope && p.counters == counters => {
                    p.end_line = n
                }
                _ => places.push(Place {
                    file: path.to_string(),
                    line: n,
                    end_line: n,
                    scope,
                    kind,
                    counters,
                    reached: false,
                }),
            },
            Err(why) => match unmapped.last_mut() {
                Some((_, end, w)) if *end + 1 == n && *w == why => *end = n,
                _ => unmapped.push((n, n, why)),
            },
        }
    }
    let not_mapped = unmapped
        .into_iter()
        .map(|(a, b, why)| match a == b {
            true => format!("{path}:{a} ({why})"),
            false => format!("{path}:{a}-{b} ({why})"),
        })
        .collect();
    (places, not_mapped)
}

fn execution_count(name: &str) -> String {
    format!("opcode.{name}.execution_count")
}

/// bytecodes.c: the definition holding the line; a micro-op counts through its macros.
fn bytecodes_landing(defs: &[csource::Definition], i: usize) -> Landing {
    let d = defs
        .iter()
        .find(|d| d.start <= i && i <= d.end)
        .ok_or_else(|| "outside any instruction definition".to_string())?;
    let scope = format!(
        "{}({})",
        match d.kind {
            DefKind::Inst => "inst",
            DefKind::Op => "op",
            DefKind::Macro => "macro",
            DefKind::Family => "family",
            DefKind::Pseudo => "pseudo",
        },
        d.name
    );
    let counters: Vec<String> = match d.kind {
        DefKind::Inst | DefKind::Macro | DefKind::Family => vec![execution_count(&d.name)],
        DefKind::Op => defs
            .iter()
            .filter(|m| m.kind == DefKind::Macro && m.parts.contains(&d.name))
            .map(|m| execution_count(&m.name))
            .collect(),
        DefKind::Pseudo => return Err(format!("{scope}: compiler-only, never executed")),
    };
    if counters.is_empty() {
        return Err(format!("{scope}: in no instruction (tier 2 only)"));
    }
    Ok((scope, PlaceKind::Instruction, counters))
}

/// Drops the family of functions that are not specializer code: a specializer function is
/// a `_Py_Specialize_*` entry point, one that records a failure or installs an instruction
/// (`SPECIALIZATION_FAIL`, `op.code`, a specialized instruction's name), or one such a
/// function calls. The stats printers, which name every family, are none of these.
fn keep_specializers(code: &[String], funcs: &mut [Function], meta: &Metadata) {
    let body = |f: &Function| &code[f.start..=f.end];
    let mut is: Vec<bool> = funcs
        .iter()
        .map(|f| {
            f.name.starts_with("_Py_Specialize_")
                || body(f).iter().any(|l| {
                    l.contains("SPECIALIZATION_FAIL(")
                        || l.contains("op.code")
                        || csource::words(l)
                            .any(|w| meta.specialized_instructions.iter().any(|s| s == w))
                })
        })
        .collect();
    let calls = |caller: &Function, callee: &str| {
        body(caller).iter().any(|l| {
            l.match_indices(callee).any(|(at, _)| {
                let before = l[..at].chars().next_back();
                let after = l[at + callee.len()..].trim_start().starts_with('(');
                after && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        })
    };
    loop {
        let found: Vec<usize> = (0..funcs.len())
            .filter(|i| !is[*i])
            .filter(|i| (0..funcs.len()).any(|j| is[j] && calls(&funcs[j], &funcs[*i].name)))
            .collect();
        if found.is_empty() {
            break;
        }
        for i in found {
            is[i] = true;
        }
    }
    for (f, keep) in funcs.iter_mut().zip(is) {
        if !keep {
            f.family = None;
        }
    }
}

/// specialize.c's functions and families, for mapping its lines.
struct Specializer<'a> {
    code: &'a [String],
    funcs: &'a [Function],
    families: &'a [String],
    meta: &'a Metadata,
}

impl Specializer<'_> {
    /// The line's own counters, else those of the blocks governing it (the block the line
    /// opens, then the enclosing ones), else the function's family.
    fn landing(&self, i: usize) -> Landing {
        let f = self
            .funcs
            .iter()
            .find(|f| f.start <= i && i <= f.end)
            .ok_or_else(|| "outside any function".to_string())?;
        let family = f
            .family
            .as_deref()
            .ok_or_else(|| format!("{}: not specializer code", f.name))?;
        let scope = f.name.clone();
        if let Some((kind, counters)) = pick(self.line_counters(i, family)) {
            return Ok((scope, kind, counters));
        }
        let opened = csource::block_end(self.code, i, f.end)
            .filter(|end| *end > i)
            .map(|end| (i, end));
        let mut block = opened.or_else(|| csource::enclosing_block(self.code, (f.start, f.end), i));
        while let Some((s, e)) = block {
            let found: Vec<(PlaceKind, String)> = csource::direct_lines(self.code, (s, e), i)
                .into_iter()
                .flat_map(|j| self.line_counters(j, family))
                .collect();
            let ambiguous = found.iter().any(|(k, _)| *k == PlaceKind::FailureKind);
            if let Some(picked) = pick(found) {
                return Ok((scope, picked.0, picked.1));
            }
            if ambiguous {
                break;
            }
            block = csource::enclosing_block(self.code, (f.start, f.end), s);
        }
        Ok((
            scope,
            PlaceKind::Family,
            vec![
                format!("family.{family}.success"),
                format!("family.{family}.failure"),
            ],
        ))
    }

    /// Counters a line names: its `SPECIALIZATION_FAIL` site, specialized instructions.
    fn line_counters(&self, i: usize, family: &str) -> Vec<(PlaceKind, String)> {
        let line = &self.code[i];
        let mut out = vec![];
        if let Some(at) = line.find("SPECIALIZATION_FAIL(") {
            // The call may continue on the next lines.
            let mut call = line[at + "SPECIALIZATION_FAIL(".len()..].to_string();
            for next in self.code.iter().skip(i + 1).take(2) {
                call.push(' ');
                call.push_str(next);
            }
            out.push((PlaceKind::FailureKind, self.fail_counter(&call, family)));
        }
        for w in csource::words(line) {
            if self.meta.specialized_instructions.iter().any(|s| s == w) {
                out.push((PlaceKind::Instruction, execution_count(w)));
            }
        }
        out
    }

    /// The failure-kind metric of `FAMILY, SPEC_FAIL_KIND)...`, named as the metrics name it;
    /// a computed kind counts as the family's failures.
    fn fail_counter(&self, args: &str, family: &str) -> String {
        let (fam_arg, rest) = args.split_once(',').unwrap_or((args, ""));
        let fam_arg = fam_arg.trim();
        let family = if self.families.iter().any(|f| f == fam_arg) {
            fam_arg
        } else {
            family
        };
        let kind_arg = rest.split(')').next().unwrap_or("").trim();
        let index = kind_arg.strip_prefix("SPEC_FAIL_").and_then(|name| {
            self.meta
                .defines
                .iter()
                .find(|(_, names)| names.iter().any(|n| n == name))
                .map(|(v, _)| u64::from(*v))
        });
        match index {
            Some(index) => {
                let kind = FailureKind {
                    index,
                    define: failure_kind_define(&self.meta.defines, index, family)
                        .map(str::to_string),
                    count: 0,
                };
                format!("family.{family}.failure_kind.{}", failure_kind_name(&kind))
            }
            None => format!("family.{family}.failure"),
        }
    }
}

/// The most specific choice among a scope's counters: one failure kind, else the
/// instructions named; several failure kinds say nothing about which one governs.
fn pick(found: Vec<(PlaceKind, String)>) -> Option<(PlaceKind, Vec<String>)> {
    let mut kinds: Vec<String> = vec![];
    let mut insts: Vec<String> = vec![];
    for (k, c) in found {
        let list = match k {
            PlaceKind::FailureKind => &mut kinds,
            _ => &mut insts,
        };
        if !list.contains(&c) {
            list.push(c);
        }
    }
    if kinds.len() == 1 {
        Some((PlaceKind::FailureKind, kinds))
    } else if kinds.is_empty() && !insts.is_empty() {
        Some((PlaceKind::Instruction, insts))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "\
static int
specialize_thing(PyObject *o, _Py_CODEUNIT *instr)
{
    if (!PyLong_CheckExact(o)) {
        SPECIALIZATION_FAIL(THING, SPEC_FAIL_OUT_OF_RANGE);
        return -1;
    }
    switch (kind) {
        case A:
            SPECIALIZATION_FAIL(THING, SPEC_FAIL_NO_DICT);
            return -1;
        case B:
            x = 1;
            instr->op.code = THING_INT;
            return 0;
    }
    return 0;
}

void
_Py_Specialize_Thing(PyObject *o, _Py_CODEUNIT *instr)
{
    int y = 0;
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

    fn meta() -> Metadata {
        let mut m = Metadata::embedded("3.13").unwrap();
        m.specialized_instructions.push("THING_INT".into());
        m
    }

    fn counters_of(base: &str, head: &str) -> Vec<(usize, Vec<String>)> {
        let lines = changed_lines(base, head);
        let (places, _) = map_lines("Python/specialize.c", head, &lines, &meta());
        places.into_iter().map(|p| (p.line, p.counters)).collect()
    }

    #[test]
    fn comment_and_blank_edits_touch_nothing() {
        let head = SRC
            .replace("int y = 0;", "int y = 0; /* why */\n\n    // more")
            .replace("    return 0;\n}", "        return   0;\n}");
        assert_eq!(changed_lines(SRC, &head), Vec::<usize>::new());
    }

    #[test]
    fn a_deletion_counts_at_the_line_that_follows_it() {
        // Line 13 `x = 1;` deleted: head line 13 is now `instr->op.code = THING_INT;`.
        let head = SRC.replace("            x = 1;\n", "");
        assert_eq!(changed_lines(SRC, &head), [12]);
        assert_eq!(
            counters_of(SRC, &head),
            [(13, vec!["opcode.THING_INT.execution_count".to_string()])]
        );
    }

    #[test]
    fn an_else_branch_is_governed_by_its_own_block() {
        let src = SRC.replace(
            "        return -1;\n    }\n    switch",
            "        return -1;\n    } else {\n        y = 2;\n        SPECIALIZATION_FAIL(THING, SPEC_FAIL_OTHER);\n    }\n    switch",
        );
        let head = src.replace("y = 2;", "y = 3;");
        assert_eq!(
            counters_of(&src, &head),
            [(8, vec!["family.THING.failure_kind.other".to_string()])]
        );
    }

    #[test]
    fn each_line_lands_on_its_most_specific_counter() {
        let kind = |k: &str| vec![format!("family.THING.failure_kind.{k}")];
        // The guard governs the failure path it opens.
        let head = SRC.replace("!PyLong_CheckExact(o)", "!PyLong_Check(o)");
        assert_eq!(counters_of(SRC, &head), [(4, kind("out_of_range"))]);
        // A case statement belongs to its label, not to the switch's other cases.
        let head = SRC.replace("x = 1;", "x = 2;");
        assert_eq!(
            counters_of(SRC, &head),
            [(13, vec!["opcode.THING_INT.execution_count".to_string()])]
        );
        let head = SRC.replace("SPEC_FAIL_NO_DICT", "SPEC_FAIL_OTHER");
        assert_eq!(counters_of(SRC, &head), [(10, kind("other"))]);
        // Plain code of the function: the family's specialization attempts.
        let head = SRC.replace("int y = 0;", "int y = 1;");
        assert_eq!(
            counters_of(SRC, &head),
            [(
                23,
                vec![
                    "family.THING.success".to_string(),
                    "family.THING.failure".to_string()
                ]
            )]
        );
    }

    #[test]
    fn bytecodes_definitions_map_to_their_instructions() {
        let src = "\
        inst(NOP, (--)) {
        }
        op(_GUARD, (a -- a)) {
            DEOPT_IF(a);
        }
        op(_TIER2_ONLY, (--)) {
            x();
        }
        macro(BIG) =
            _GUARD + unused/1 + _X;
        pseudo(P) = { NOP };
";
        let code = csource::code_view(src);
        let defs = csource::definitions(&code);
        let at = |i| bytecodes_landing(&defs, i);
        assert_eq!(at(3).unwrap().2, ["opcode.BIG.execution_count"]);
        assert_eq!(at(0).unwrap().2, ["opcode.NOP.execution_count"]);
        assert_eq!(at(9).unwrap().2, ["opcode.BIG.execution_count"]);
        assert!(at(6).is_err());
        assert!(at(10).is_err());
    }

    #[test]
    fn note_names_unreached_places_and_what_to_do() {
        let mut r = Reach::from_files(
            "b",
            "h",
            &[
                ChangedFile {
                    path: "Python/specialize.c".into(),
                    base: Some(SRC.into()),
                    head: Some(SRC.replace("SPEC_FAIL_NO_DICT", "SPEC_FAIL_OTHER")),
                },
                ChangedFile {
                    path: "Python/ceval.c".into(),
                    base: None,
                    head: None,
                },
            ],
            &meta(),
        );
        assert_eq!(r.not_mapped, ["Python/ceval.c"]);
        r.mark_reached(|_| true);
        assert!(r.note().is_none());
        r.mark_reached(|_| false);
        let note = r.note().unwrap();
        assert!(
            note.contains(
                "Python/specialize.c:10 (specialize_thing: family.THING.failure_kind.other = 0"
            ),
            "{note}"
        );
        assert!(note.ends_with(UNREACHED_ADVICE), "{note}");
    }
}
