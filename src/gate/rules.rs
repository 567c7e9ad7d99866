//! TOML gate rules: loading with exact errors (file, line, key path), includes, and glob matching.
//!
//! ```toml
//! include = ["default.toml"]       # relative to this file; `default.toml` with no such
//!                                  # file there is the shipped rules/default.toml
//! [[rule]]                         # a rule named like an included one overrides it:
//! name = "family-miss-ratio"       # the keys set here replace the included ones,
//! max_increase = 0.005             # `enabled = false` removes it
//! [[rule]]
//! name = "attr-miss-ratio"
//! metric = "family.LOAD_ATTR.miss_ratio" # glob over metric names
//! max_increase = 0.01              # absolute limits: max_increase, max_decrease, max, min
//! max_relative_increase = 0.05     # relative limits (fractions of the base value)
//! min_count = 1000                 # ignore when the sample behind the value is smaller
//! severity = "fail"                # or "warn"
//! benchmarks = ["*", "!calls"]     # evaluate per benchmark (globs; `!` excludes) instead
//!                                  # of the aggregate
//! forbid_appearing = true          # zero in base, non-zero in head is a violation
//! optional = true                  # may check nothing on some data (listed, not an error)
//! description = "..."
//! ```

use crate::error::Error;
use globset::GlobMatcher;
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml_edit::{ImDocument, Item, TableLike};

/// The shipped default rules.
pub const DEFAULT_RULES: &str = include_str!("../../rules/default.toml");
/// Name shown for the embedded default rules file.
pub const DEFAULT_RULES_NAME: &str = "rules/default.toml";
/// `include = ["default.toml"]` with no such file next to the including file: the shipped rules.
pub const DEFAULT_INCLUDE: &str = "default.toml";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Fail,
    Warn,
}

/// Which limit a value is tested against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    MaxIncrease,
    MaxDecrease,
    MaxRelativeIncrease,
    MaxRelativeDecrease,
    Max,
    Min,
    ForbidAppearing,
}

impl LimitKind {
    /// Limits on the size of a change (which must therefore be non-negative).
    pub fn bounds_a_change(self) -> bool {
        matches!(
            self,
            LimitKind::MaxIncrease
                | LimitKind::MaxDecrease
                | LimitKind::MaxRelativeIncrease
                | LimitKind::MaxRelativeDecrease
        )
    }

    pub fn key(self) -> &'static str {
        match self {
            LimitKind::MaxIncrease => "max_increase",
            LimitKind::MaxDecrease => "max_decrease",
            LimitKind::MaxRelativeIncrease => "max_relative_increase",
            LimitKind::MaxRelativeDecrease => "max_relative_decrease",
            LimitKind::Max => "max",
            LimitKind::Min => "min",
            LimitKind::ForbidAppearing => "forbid_appearing",
        }
    }
    const NUMERIC: [LimitKind; 6] = [
        LimitKind::MaxIncrease,
        LimitKind::MaxDecrease,
        LimitKind::MaxRelativeIncrease,
        LimitKind::MaxRelativeDecrease,
        LimitKind::Max,
        LimitKind::Min,
    ];
}

/// One limit of a rule (`forbid_appearing` has value 0).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    pub kind: LimitKind,
    pub value: f64,
}

/// Where a rule was declared, for error messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleOrigin {
    pub file: String,
    pub line: usize,
    /// Key path, e.g. `rule[2]`.
    pub path: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub metric: String,
    pub limits: Vec<Limit>,
    pub min_count: Option<f64>,
    pub severity: Severity,
    pub benchmarks: Option<Vec<String>>,
    pub description: String,
    /// The rule may check nothing on some data (its metrics absent, as tier-2 counters on a
    /// build without tier 2, or every check below `min_count`): then it is listed as
    /// unchecked but does not keep the verdict from passing. Without it, a rule that matches
    /// no metric of the compared data is an input error and one whose every check was
    /// skipped leaves the verdict at best INCONCLUSIVE.
    #[serde(default)]
    pub optional: bool,
    pub origin: RuleOrigin,
    #[serde(skip)]
    matcher: Option<GlobMatcher>,
    #[serde(skip)]
    /// One per `benchmarks` entry (a `!` entry's glob without the `!`).
    bench_matchers: Vec<GlobMatcher>,
}

impl Rule {
    /// True when the metric name (without `bench.` prefix) matches the rule's glob.
    /// A `.per_minstr` metric is the same count rescaled, so it matches only a pattern that
    /// names `per_minstr` itself: otherwise every count rule would fire twice.
    pub fn matches_metric(&self, name: &str) -> bool {
        if name.ends_with(crate::gate::metrics::PER_MILLION_SUFFIX)
            && !self.metric.contains("per_minstr")
        {
            return false;
        }
        match &self.matcher {
            Some(m) => m.is_match(name),
            None => crate::text::glob(&self.metric)
                .map(|g| g.compile_matcher().is_match(name))
                .unwrap_or(false),
        }
    }
    /// True when the rule applies per benchmark and `bench` is selected.
    pub fn matches_benchmark(&self, bench: &str) -> bool {
        // `!glob` entries exclude benchmarks the other entries select.
        let entries = || self.benchmarks.iter().flatten().zip(&self.bench_matchers);
        entries().any(|(g, m)| !g.starts_with('!') && m.is_match(bench))
            && !entries().any(|(g, m)| g.starts_with('!') && m.is_match(bench))
    }
    pub fn per_benchmark(&self) -> bool {
        self.benchmarks.is_some()
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Every file read, in include order.
    pub files: Vec<String>,
    /// Rules an including file switched off with `enabled = false`.
    #[serde(default)]
    pub disabled: Vec<String>,
}

/// Builds an input error at `file:line` for a key path.
fn err_at(
    file: &str,
    src: &str,
    span: Option<std::ops::Range<usize>>,
    path: &str,
    msg: impl std::fmt::Display,
) -> anyhow::Error {
    let line = span.map(|s| line_of(src, s.start)).unwrap_or(0);
    // Key paths and messages quote the file (keys, values): bounded like every quote.
    let msg = crate::text::cap(&msg.to_string());
    let message = if path.is_empty() {
        msg
    } else {
        format!("{}: {msg}", crate::text::cap(path))
    };
    if line > 0 {
        Error::at_line(file, line, message).into()
    } else {
        Error::input(format!("{file}: {message}")).into()
    }
}

fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn describe(item: &Item) -> String {
    match item {
        Item::Value(v) => format!("{} {}", v.type_name(), v.to_string().trim()),
        other => other.type_name().to_string(),
    }
}

impl RuleSet {
    /// The shipped default rules.
    pub fn default_rules() -> anyhow::Result<RuleSet> {
        let mut set = RuleSet::default();
        set.parse_text(DEFAULT_RULES, DEFAULT_RULES_NAME, None, 0)?;
        Ok(set)
    }

    /// Loads a rules file and its includes. A file that leaves no rule to check (empty,
    /// comments only, `include = []`) is an error: it would pass every change.
    pub fn load(path: &Path) -> anyhow::Result<RuleSet> {
        let mut set = RuleSet::default();
        set.load_file(path, 0)?;
        if set.rules.is_empty() {
            return Err(Error::input(format!(
                "{}: declares no rule (directly or through `include`), so it would pass every change; include \"default.toml\" or add a [[rule]]",
                path.display()
            ))
            .into());
        }
        Ok(set)
    }

    /// `--rules FILE` or the default.
    pub fn load_or_default(path: Option<&Path>) -> anyhow::Result<RuleSet> {
        match path {
            Some(p) => RuleSet::load(p),
            None => RuleSet::default_rules(),
        }
    }

    fn load_file(&mut self, path: &Path, depth: usize) -> anyhow::Result<()> {
        let shown = path.display().to_string();
        if depth > 16 {
            return Err(Error::input(format!(
                "{shown}: includes nest deeper than 16 levels (a cycle?)"
            ))
            .into());
        }
        let text = crate::text::read_input(path)
            .map_err(|e| Error::input(format!("{shown}: cannot read rules file: {e}")))?;
        self.parse_text(&text, &shown, path.parent(), depth)
    }

    fn parse_text(
        &mut self,
        src: &str,
        file: &str,
        dir: Option<&Path>,
        depth: usize,
    ) -> anyhow::Result<()> {
        self.files.push(file.to_string());
        let doc = ImDocument::parse(src.to_string()).map_err(|e| {
            err_at(
                file,
                src,
                e.span(),
                "",
                format!("invalid TOML: {}", crate::text::cap(e.message().trim())),
            )
        })?;
        let root = doc.as_table();
        for (key, item) in root.iter() {
            let span = root.key(key).and_then(|k| k.span()).or_else(|| item.span());
            match key {
                "include" => self.parse_includes(item, span, file, src, dir, depth)?,
                "rule" => self.parse_rules(item, span, file, src)?,
                other => {
                    return Err(err_at(
                        file,
                        src,
                        span,
                        other,
                        "unknown key (expected `include` or `rule`)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The `include = [...]` of a rules file: each file parsed in turn (the shipped
    /// defaults for [`DEFAULT_INCLUDE`] when no such file is next to the including one).
    fn parse_includes(
        &mut self,
        item: &toml_edit::Item,
        span: Option<std::ops::Range<usize>>,
        file: &str,
        src: &str,
        dir: Option<&Path>,
        depth: usize,
    ) -> anyhow::Result<()> {
        let arr = item.as_array().ok_or_else(|| {
            err_at(
                file,
                src,
                item.span().or(span.clone()),
                "include",
                format!("expected an array of file names, found {}", describe(item)),
            )
        })?;
        for (i, v) in arr.iter().enumerate() {
            let p = v.as_str().ok_or_else(|| {
                err_at(
                    file,
                    src,
                    v.span(),
                    &format!("include[{i}]"),
                    format!("expected a string, found {}", v.type_name()),
                )
            })?;
            let Some(dir) = dir else {
                return Err(err_at(
                    file,
                    src,
                    v.span(),
                    &format!("include[{i}]"),
                    "the embedded default rules cannot include files",
                ));
            };
            let target = dir.join(p);
            if !target.is_file() && p == DEFAULT_INCLUDE {
                // The shipped defaults, wherever pystats-gate was installed from.
                self.parse_text(DEFAULT_RULES, DEFAULT_RULES_NAME, None, depth + 1)?;
                continue;
            }
            if !target.is_file() {
                return Err(err_at(
                    file,
                    src,
                    v.span(),
                    &format!("include[{i}]"),
                    format!("no such file {}", target.display()),
                ));
            }
            self.load_file(&target, depth + 1)?;
        }
        Ok(())
    }

    /// The `[[rule]]` tables of a rules file (or an array of inline tables): each overrides
    /// the rule of its name, or is a new rule.
    fn parse_rules(
        &mut self,
        item: &toml_edit::Item,
        span: Option<std::ops::Range<usize>>,
        file: &str,
        src: &str,
    ) -> anyhow::Result<()> {
        let tables: Vec<&dyn TableLike> = if let Some(aot) = item.as_array_of_tables() {
            aot.iter().map(|t| t as &dyn TableLike).collect()
        } else if let Some(arr) = item.as_array() {
            let mut v = vec![];
            for (i, x) in arr.iter().enumerate() {
                match x.as_inline_table() {
                    Some(t) => v.push(t as &dyn TableLike),
                    None => {
                        return Err(err_at(
                            file,
                            src,
                            x.span(),
                            &format!("rule[{i}]"),
                            format!("expected a table, found {}", x.type_name()),
                        ))
                    }
                }
            }
            v
        } else {
            return Err(err_at(
                file,
                src,
                span,
                "rule",
                format!(
                    "expected an array of tables ([[rule]]), found {}",
                    describe(item)
                ),
            ));
        };
        // Names this file declared (new rules and overrides alike), with their lines: a
        // second override of an included rule would replace the first one's keys unseen.
        let mut declared = std::collections::HashMap::new();
        for (i, t) in tables.into_iter().enumerate() {
            if let Some(name) = t.get("name").and_then(|n| n.as_str()) {
                let span = t.key("name").and_then(|k| k.span());
                let line = span.as_ref().map_or(0, |s| line_of(src, s.start));
                if let Some(first) = declared.insert(name, line) {
                    return Err(err_at(
                        file,
                        src,
                        span,
                        &format!("rule[{i}].name"),
                        format!("duplicate rule name {name:?} (first declared at {file}:{first})"),
                    ));
                }
            }
            if self.override_rule(t, file, src, i)? {
                continue;
            }
            // New names only: override_rule took the known ones.
            let rule = parse_rule(t, file, src, i, None)?.0;
            self.rules.push(rule);
        }
        Ok(())
    }

    /// Every benchmark glob of a per-benchmark rule must match a benchmark of the compared
    /// sets: a typo would otherwise disable the rule silently.
    pub fn check_benchmarks(&self, known: &[String]) -> anyhow::Result<()> {
        for r in &self.rules {
            for (j, (glob, m)) in r
                .benchmarks
                .iter()
                .flatten()
                .zip(&r.bench_matchers)
                .enumerate()
            {
                if !known.iter().any(|b| m.is_match(b)) {
                    return Err(Error::at_line(
                        &r.origin.file,
                        r.origin.line,
                        format!(
                            "{}.benchmarks[{j}]: {glob:?} matches no benchmark of the compared sets (they have: {})",
                            r.origin.path,
                            known.join(", ")
                        ),
                    )
                    .into());
                }
            }
            // Each glob matching something is not enough: `["!*"]`, or `!` entries excluding
            // all the others select, leave the rule nothing to check.
            if r.per_benchmark() && !known.iter().any(|b| r.matches_benchmark(b)) {
                return Err(Error::at_line(
                    &r.origin.file,
                    r.origin.line,
                    format!(
                        "{}.benchmarks: selects no benchmark of the compared sets (a list of only `!` entries selects none; they have: {})",
                        r.origin.path,
                        known.join(", ")
                    ),
                )
                .into());
            }
        }
        Ok(())
    }

    /// A `[[rule]]` naming a rule declared in another (included) file changes that rule: the
    /// keys it sets replace the included ones (a limit key replaces that limit), and
    /// `enabled = false` removes the rule. Returns false when `t` declares a new rule.
    fn override_rule(
        &mut self,
        t: &dyn TableLike,
        file: &str,
        src: &str,
        i: usize,
    ) -> anyhow::Result<bool> {
        let Some(name) = t.get("name").and_then(|n| n.as_str()) else {
            return Ok(false);
        };
        if let Some(prev) = self
            .rules
            .iter()
            .find(|r| r.name == name && r.origin.file == file)
        {
            return Err(err_at(
                file,
                src,
                t.key("name").and_then(|k| k.span()),
                &format!("rule[{i}].name"),
                format!(
                    "duplicate rule name {name:?} (first declared at {}:{})",
                    prev.origin.file, prev.origin.line
                ),
            ));
        }
        let Some(idx) = self.rules.iter().position(|r| r.name == name) else {
            if t.contains_key("enabled") {
                return Err(err_at(
                    file,
                    src,
                    t.key("enabled").and_then(|k| k.span()),
                    &format!("rule[{i}].enabled"),
                    format!(
                        "no included rule named {name:?} to enable or disable (rules so far: {})",
                        self.rules
                            .iter()
                            .map(|r| r.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            return Ok(false);
        };
        let (rule, enabled) = parse_rule(t, file, src, i, Some(&self.rules[idx]))?;
        if enabled {
            self.rules[idx] = rule;
        } else {
            self.rules.remove(idx);
            self.disabled.push(name.to_string());
        }
        Ok(true)
    }

    /// A rule that found no metric in the compared data checks nothing: an input error
    /// naming file, line and key path, unless the rule is `optional`. `checks(rule)` counts
    /// the (rule, metric) checks the compared data gave the rule.
    pub fn check_patterns(&self, checks: impl Fn(&Rule) -> usize) -> anyhow::Result<()> {
        for r in self.rules.iter().filter(|r| !r.optional) {
            if checks(r) == 0 {
                let what = if r.per_benchmark() {
                    "no metric of the selected benchmarks"
                } else {
                    "no metric"
                };
                return Err(Error::at_line(
                    &r.origin.file,
                    r.origin.line,
                    format!("{}.metric: pattern {} matches {what} in the compared data, so the rule checks nothing (see `pystats-gate metrics SET`; `optional = true` lets a rule find nothing)", r.origin.path, crate::text::quote(r.metric.as_bytes())),
                )
                .into());
            }
        }
        Ok(())
    }
}

/// Parses one `[[rule]]` table; with `base`, an override of that rule (keys not set keep
/// the base's values). Returns the rule and its `enabled` key (default true).
fn parse_rule(
    t: &dyn TableLike,
    file: &str,
    src: &str,
    i: usize,
    base: Option<&Rule>,
) -> anyhow::Result<(Rule, bool)> {
    let path = format!("rule[{i}]");
    let rule_line = t
        .iter()
        .next()
        .and_then(|(k, _)| t.key(k).and_then(|k| k.span()))
        .map(|s| line_of(src, s.start))
        .unwrap_or(0);
    let mut draft = RuleDraft::from_base(base);
    for (key, item) in t.iter() {
        let at = KeyAt {
            file,
            src,
            kpath: format!("{path}.{key}"),
            key_span: t.key(key).and_then(|k| k.span()),
            item_span: item.span().or_else(|| t.key(key).and_then(|k| k.span())),
        };
        draft.apply(key, item, &at)?;
    }
    let origin = match base {
        // An override that keeps the pattern: pattern errors point at the declaration.
        Some(b) if !t.contains_key("metric") => b.origin.clone(),
        _ => RuleOrigin {
            file: file.to_string(),
            line: rule_line,
            path,
        },
    };
    let enabled = draft.enabled;
    Ok((draft.finish(origin, file, rule_line)?, enabled))
}

/// Where one key of a rule table sits, for errors that name file, line and key path.
struct KeyAt<'a> {
    file: &'a str,
    src: &'a str,
    kpath: String,
    key_span: Option<std::ops::Range<usize>>,
    item_span: Option<std::ops::Range<usize>>,
}

impl KeyAt<'_> {
    fn error(&self, msg: impl std::fmt::Display) -> anyhow::Error {
        err_at(
            self.file,
            self.src,
            self.item_span.clone(),
            &self.kpath,
            msg,
        )
    }
    fn expected(&self, what: &str, item: &Item) -> anyhow::Error {
        self.error(format!("expected {what}, found {}", describe(item)))
    }
    fn string<'i>(&self, item: &'i Item) -> anyhow::Result<&'i str> {
        item.as_str().ok_or_else(|| self.expected("a string", item))
    }
    fn boolean(&self, item: &Item) -> anyhow::Result<bool> {
        item.as_bool()
            .ok_or_else(|| self.expected("a boolean", item))
    }
}

/// A rule's keys as read so far (an override starts from the rule it overrides).
struct RuleDraft {
    name: Option<String>,
    metric: Option<String>,
    limits: Vec<Limit>,
    min_count: Option<f64>,
    severity: Severity,
    benchmarks: Option<Vec<String>>,
    description: String,
    enabled: bool,
    optional: bool,
}

impl RuleDraft {
    fn from_base(base: Option<&Rule>) -> Self {
        RuleDraft {
            name: base.map(|b| b.name.clone()),
            metric: base.map(|b| b.metric.clone()),
            limits: base.map(|b| b.limits.clone()).unwrap_or_default(),
            min_count: base.and_then(|b| b.min_count),
            severity: base.map(|b| b.severity).unwrap_or(Severity::Fail),
            benchmarks: base.and_then(|b| b.benchmarks.clone()),
            description: base.map(|b| b.description.clone()).unwrap_or_default(),
            enabled: true,
            optional: base.is_some_and(|b| b.optional),
        }
    }

    fn set_limit(&mut self, kind: LimitKind, value: f64) {
        self.limits.retain(|l| l.kind != kind);
        self.limits.push(Limit { kind, value });
    }

    /// Reads one key.
    fn apply(&mut self, key: &str, item: &Item, at: &KeyAt) -> anyhow::Result<()> {
        match key {
            "name" => self.name = Some(at.string(item)?.to_string()),
            "metric" => {
                let m = at.string(item)?;
                crate::text::glob(m)
                    .map_err(|e| at.error(format!("{e}: {}", crate::text::quote(m.as_bytes()))))?;
                self.metric = Some(m.to_string());
            }
            "description" => self.description = at.string(item)?.to_string(),
            "severity" => {
                self.severity = match item.as_str() {
                    Some("fail") => Severity::Fail,
                    Some("warn") => Severity::Warn,
                    _ => return Err(at.expected("\"fail\" or \"warn\"", item)),
                }
            }
            "min_count" => {
                let v = number(item).ok_or_else(|| at.expected("a number", item))?;
                if v < 0.0 {
                    return Err(at.error("must not be negative"));
                }
                self.min_count = Some(v);
            }
            "enabled" => self.enabled = at.boolean(item)?,
            "optional" => self.optional = at.boolean(item)?,
            "forbid_appearing" => {
                self.limits.retain(|l| l.kind != LimitKind::ForbidAppearing);
                if at.boolean(item)? {
                    self.set_limit(LimitKind::ForbidAppearing, 0.0);
                }
            }
            "benchmarks" => self.benchmarks = Some(benchmark_globs(item, at)?),
            _ => {
                let Some(kind) = LimitKind::NUMERIC.iter().find(|k| k.key() == key) else {
                    return Err(err_at(
                        at.file,
                        at.src,
                        at.key_span.clone(),
                        &at.kpath,
                        "unknown key (expected name, metric, enabled, max_increase, max_decrease, max_relative_increase, max_relative_decrease, max, min, forbid_appearing, min_count, severity, benchmarks, optional, description)",
                    ));
                };
                let v = number(item).ok_or_else(|| at.expected("a number", item))?;
                if !v.is_finite() {
                    return Err(at.error("must be finite"));
                }
                if kind.bounds_a_change() && v < 0.0 {
                    return Err(at.error("must not be negative (it bounds the size of a change)"));
                }
                // No metric is negative, so none falls by more than 100%: such a rule could
                // never fail (5 meant for 5% would gate nothing).
                if *kind == LimitKind::MaxRelativeDecrease && v >= 1.0 {
                    return Err(at.error(format!("{v} allows any decrease (no value falls by more than 100%), so the rule could never fail; limits are fractions (0.05 = 5%)")));
                }
                self.set_limit(*kind, v);
            }
        }
        Ok(())
    }

    /// Checks the rule as a whole (required keys, a limit, consistent bounds) and compiles
    /// its globs.
    fn finish(self, origin: RuleOrigin, file: &str, rule_line: usize) -> anyhow::Result<Rule> {
        let path = &origin.path;
        let fail = |msg: String| -> anyhow::Error { Error::at_line(file, rule_line, msg).into() };
        let name = self
            .name
            .ok_or_else(|| fail(format!("{path}.name: missing required key")))?;
        // `--accept RULE:GLOB because ...` and `bisect --rule NAME` must be able to name it.
        if name.is_empty() || name.contains(|c: char| c == ':' || c.is_whitespace()) {
            return Err(fail(format!(
                "{path}.name: {}: a rule name must be non-empty, without `:` or blanks",
                crate::output::quote(name.as_bytes())
            )));
        }
        let metric = self.metric.ok_or_else(|| {
            fail(format!("{path}.metric: missing required key (no included rule is named {}, so this declares a new rule)", crate::text::quote(name.as_bytes())))
        })?;
        if self.limits.is_empty() {
            return Err(fail(format!("{path}: rule {} has no limit (set one of max_increase, max_decrease, max_relative_increase, max_relative_decrease, max, min, forbid_appearing)", crate::text::quote(name.as_bytes()))));
        }
        let bound = |k: LimitKind| self.limits.iter().find(|l| l.kind == k).map(|l| l.value);
        if let (Some(min), Some(max)) = (bound(LimitKind::Min), bound(LimitKind::Max)) {
            if min > max {
                return Err(fail(format!(
                    "{path}.min: {min} is greater than {path}.max {max}: the rule could never pass"
                )));
            }
        }
        if self.benchmarks.as_ref().is_some_and(|b| b.is_empty()) {
            return Err(fail(format!("{path}.benchmarks: empty list would select no benchmark (omit the key to gate the aggregate)")));
        }
        let matcher = Some(
            crate::text::glob(&metric)
                .expect("validated")
                .compile_matcher(),
        );
        let bench_matchers = self
            .benchmarks
            .iter()
            .flatten()
            .map(|b| {
                let glob = b.strip_prefix('!').unwrap_or(b);
                crate::text::glob(glob)
                    .expect("validated")
                    .compile_matcher()
            })
            .collect();
        Ok(Rule {
            name,
            metric,
            limits: self.limits,
            min_count: self.min_count,
            severity: self.severity,
            benchmarks: self.benchmarks,
            description: self.description,
            optional: self.optional,
            origin,
            matcher,
            bench_matchers,
        })
    }
}

/// A rule's `benchmarks` key: an array of globs, each optionally negated with `!`.
fn benchmark_globs(item: &Item, at: &KeyAt) -> anyhow::Result<Vec<String>> {
    let arr = item
        .as_array()
        .ok_or_else(|| at.expected("an array of benchmark globs", item))?;
    let mut globs = vec![];
    for (j, x) in arr.iter().enumerate() {
        let elem_err = |msg: String| {
            err_at(
                at.file,
                at.src,
                x.span(),
                &format!("{}[{j}]", at.kpath),
                msg,
            )
        };
        let s = x
            .as_str()
            .ok_or_else(|| elem_err(format!("expected a string, found {}", x.type_name())))?;
        crate::text::glob(s.strip_prefix('!').unwrap_or(s))
            .map_err(|e| elem_err(format!("{e}: {}", crate::text::quote(s.as_bytes()))))?;
        globs.push(s.to_string());
    }
    Ok(globs)
}

/// A finite number (TOML's `nan` and `inf` bound nothing).
fn number(item: &Item) -> Option<f64> {
    item.as_float()
        .or_else(|| item.as_integer().map(|i| i as f64))
        .filter(|v| v.is_finite())
}

pub fn fmt_limit(kind: crate::gate::metrics::MetricKind, l: &Option<Limit>) -> String {
    let Some(l) = l else { return "-".into() };
    match l.kind {
        LimitKind::MaxRelativeIncrease | LimitKind::MaxRelativeDecrease => {
            format!("{} {:.1}%", l.kind.key(), l.value * 100.0)
        }
        LimitKind::ForbidAppearing => "forbid_appearing".into(),
        LimitKind::MaxIncrease | LimitKind::MaxDecrease
            if kind == crate::gate::metrics::MetricKind::Ratio =>
        {
            format!("{} {:.2} pp", l.kind.key(), l.value * 100.0)
        }
        _ => format!(
            "{} {}",
            l.kind.key(),
            crate::gate::metrics::format_value(kind, l.value)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<RuleSet> {
        let mut s = RuleSet::default();
        s.parse_text(text, "r.toml", None, 0)?;
        Ok(s)
    }

    #[test]
    fn shipped_rules_load() {
        let set = RuleSet::default_rules().unwrap();
        assert!(set.rules.len() >= 5);
        assert!(set.rules.iter().any(|r| r.severity == Severity::Warn));
    }

    #[test]
    fn per_million_variants_match_only_when_named() {
        let set = parse(
            "[[rule]]\nname = \"k\"\nmetric = \"family.*.failure_kind.*\"\nforbid_appearing = true\n\n[[rule]]\nname = \"p\"\nmetric = \"objects.*.per_minstr\"\nmax_relative_increase = 0.1\n",
        )
        .unwrap();
        let (kind, per) = (&set.rules[0], &set.rules[1]);
        assert!(kind.matches_metric("family.CALL.failure_kind.other"));
        assert!(!kind.matches_metric("family.CALL.failure_kind.other.per_minstr"));
        assert!(per.matches_metric("objects.allocations.per_minstr"));
        assert!(!per.matches_metric("objects.allocations"));
    }

    #[test]
    fn wrong_type_names_key_path_and_line() {
        let e = parse("[[rule]]\nname = \"a\"\nmetric = \"x\"\nmax_increase = 1\n\n[[rule]]\nname = \"b\"\nmetric = \"y\"\nmax_increase = \"lots\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "r.toml:9: rule[1].max_increase: expected a number, found string \"lots\""
        );
    }

    #[test]
    fn unknown_key_and_bad_glob() {
        let e = parse("[[rule]]\nname = \"a\"\nmetric = \"x\"\nmax_increas = 1\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("r.toml:4: rule[0].max_increas: unknown key"),
            "{e}"
        );
        let e = parse("[[rule]]\nname = \"a\"\nmetric = \"x[\"\nmax = 1\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("r.toml:3: rule[0].metric: bad glob"),
            "{e}"
        );
        let e = parse("bogus = 1\n").unwrap_err();
        assert!(
            e.to_string().starts_with("r.toml:1: bogus: unknown key"),
            "{e}"
        );
        let e = parse("[[rule]]\nname = \"a\"\nmetric = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("has no limit"), "{e}");
        let e = parse("[[rule]\n").unwrap_err();
        assert!(e.to_string().starts_with("r.toml:1: invalid TOML"), "{e}");
    }

    #[test]
    fn pattern_matching_nothing_is_an_error() {
        let s = parse("[[rule]]\nname = \"a\"\nmetric = \"family.*.nope\"\nmax = 1\n").unwrap();
        let e = s.check_patterns(|_| 0).unwrap_err();
        assert!(e.to_string().contains("rule[0].metric: pattern"), "{e}");
        s.check_patterns(|_| 1).unwrap();
        let s =
            parse("[[rule]]\nname = \"a\"\nmetric = \"family.*.nope\"\nmax = 1\noptional = true\n")
                .unwrap();
        s.check_patterns(|_| 0).unwrap();
    }

    #[test]
    fn include_is_relative_and_errors_name_the_included_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.toml"),
            "include = [\"sub/more.toml\"]\n[[rule]]\nname = \"a\"\nmetric = \"x\"\nmax = 1\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/more.toml"),
            "[[rule]]\nname = \"b\"\nmetric = \"y\"\nmin = 0\nseverity = \"warn\"\n",
        )
        .unwrap();
        let set = RuleSet::load(&dir.path().join("main.toml")).unwrap();
        assert_eq!(
            set.rules
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            ["b", "a"]
        );
        assert_eq!(set.files.len(), 2);
        std::fs::write(
            dir.path().join("sub/more.toml"),
            "[[rule]]\nname = \"b\"\nmetric = \"y\"\nseverity = \"fatal\"\nmin = 0\n",
        )
        .unwrap();
        let e = RuleSet::load(&dir.path().join("main.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("more.toml:4: rule[0].severity: expected \"fail\" or \"warn\""),
            "{e}"
        );
    }

    #[test]
    fn an_including_file_overrides_or_disables_rules_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("mine.toml");
        std::fs::write(
            &f,
            "include = [\"default.toml\"]\n\n[[rule]]\nname = \"family-miss-ratio\"\nmax_increase = 0.002\nmin_count = 10\nbenchmarks = [\"*\", \"!calls\"]\n\n[[rule]]\nname = \"gc-collections\"\nseverity = \"fail\"\n\n[[rule]]\nname = \"frame-objects\"\nenabled = false\n",
        )
        .unwrap();
        let set = RuleSet::load(&f).unwrap();
        let defaults = RuleSet::default_rules().unwrap();
        assert_eq!(set.rules.len(), defaults.rules.len() - 1);
        assert_eq!(set.disabled, ["frame-objects"]);
        let miss = set
            .rules
            .iter()
            .find(|r| r.name == "family-miss-ratio")
            .unwrap();
        assert_eq!(miss.metric, "family.*.miss_ratio", "kept from the default");
        assert_eq!(
            miss.limits,
            [Limit {
                kind: LimitKind::MaxIncrease,
                value: 0.002
            }]
        );
        assert_eq!(miss.min_count, Some(10.0));
        assert!(miss.matches_benchmark("arith") && !miss.matches_benchmark("calls"));
        let gc = set
            .rules
            .iter()
            .find(|r| r.name == "gc-collections")
            .unwrap();
        assert_eq!(gc.severity, Severity::Fail);
        assert!(set.files.iter().any(|x| x == DEFAULT_RULES_NAME));
    }

    #[test]
    fn override_errors_name_the_key_path() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("mine.toml");
        let load = |text: &str| {
            std::fs::write(&f, text).unwrap();
            RuleSet::load(&f).unwrap_err().to_string()
        };
        let e = load(
            "include = [\"default.toml\"]\n[[rule]]\nname = \"no-such-rule\"\nenabled = false\n",
        );
        assert!(
            e.contains("mine.toml:4: rule[0].enabled: no included rule named \"no-such-rule\""),
            "{e}"
        );
        let e = load("include = [\"default.toml\"]\n[[rule]]\nname = \"family-mis-ratio\"\nmax_increase = 0.1\n");
        assert!(
            e.contains("rule[0].metric: missing required key (no included rule is named"),
            "{e}"
        );
        let e = load("include = [\"default.toml\"]\n[[rule]]\nname = \"family-miss-ratio\"\nseverity = \"loud\"\n");
        assert!(e.contains("mine.toml:4: rule[0].severity: expected"), "{e}");
        let e = load(
            "[[rule]]\nname = \"a\"\nmetric = \"x\"\nmax = 1\n[[rule]]\nname = \"a\"\nmax = 2\n",
        );
        assert!(e.contains("duplicate rule name"), "{e}");
    }

    mod fuzz {
        use super::super::*;
        use proptest::prelude::*;

        /// One edit of a rules file: (byte offset, bytes deleted, bytes inserted).
        fn edits() -> impl Strategy<Value = Vec<(usize, usize, Vec<u8>)>> {
            let token = prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..4),
                Just(b"nan".to_vec()),
                Just(b"-inf".to_vec()),
                Just(b"1e400".to_vec()),
                Just(b"-1".to_vec()),
                Just(b"\"\"".to_vec()),
                Just(b"[[rule]]\n".to_vec()),
                Just(b"include = [\"r.toml\"]\n".to_vec()),
                Just("\u{e9}\u{2603}".as_bytes().to_vec()),
            ];
            proptest::collection::vec((any::<usize>(), 0usize..6, token), 1..6)
        }

        proptest! {
            #![proptest_config(ProptestConfig {
                failure_persistence: None,
                ..crate::testing::proptest_config(64)
            })]
            /// Random edits of the shipped rules never panic, and every error names the
            /// file (with a line or a key path).
            #[test]
            fn mutated_rules_never_panic_and_errors_name_the_file(edits in edits()) {
                let mut bytes = DEFAULT_RULES.as_bytes().to_vec();
                for (at, del, ins) in edits {
                    let at = at % (bytes.len() + 1);
                    let end = (at + del).min(bytes.len());
                    bytes.splice(at..end, ins);
                }
                let dir = tempfile::tempdir().unwrap();
                let p = dir.path().join("r.toml");
                std::fs::write(&p, &bytes).unwrap();
                if let Err(e) = RuleSet::load(&p) {
                    let msg = format!("{e:#}");
                    prop_assert!(msg.contains("r.toml"), "{msg}");
                    prop_assert!(msg.len() < 2000, "{} bytes: {msg}", msg.len());
                }
            }
        }
    }
}
