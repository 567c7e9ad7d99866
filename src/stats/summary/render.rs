//! Renderers for [`SummaryDoc`]: summarize_stats.py-compatible markdown, JSON and aligned text.

use super::{Align, Cell, Part, Section, SummaryDoc, Table};
use crate::text::group_digits;
use std::fmt::Write;

/// Formats a cell the way summarize_stats.py's `markdown()` methods do, without doc details.
pub fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text { text } | Cell::Doc { text, .. } => text.clone(),
        Cell::Count { value } => group_digits(&value.to_string()),
        Cell::Ratio {
            num,
            den,
            percentage,
        } => match den {
            None => String::new(),
            Some(d) => format_ratio(*num, *d, *percentage),
        },
        Cell::Change { num, den } => format_ratio(*num, *den, true),
    }
}

/// Python's `Ratio.markdown()`: `f"{n/d:,.1%}"`, `f"{n/d:,.2f}"`, or `"n / 0 !!"`.
fn format_ratio(num: i128, den: i128, percentage: bool) -> String {
    if den == 0 {
        return if num != 0 {
            format!("{} / 0 !!", group_digits(&num.to_string()))
        } else {
            String::new()
        };
    }
    let x = num as f64 / den as f64;
    if percentage {
        // Python's `%` format multiplies by 100 in floating point, then formats as `f`.
        format!("{}%", group_digits(&format!("{:.1}", x * 100.0)))
    } else {
        group_digits(&format!("{x:.2}"))
    }
}

fn cell_markdown(cell: &Cell) -> String {
    match cell {
        Cell::Doc { text, doc } => {
            format!("\n{text}\n<details>\n<summary>ⓘ</summary>\n\n{doc}\n</details>\n")
        }
        other => cell_text(other),
    }
}

/// The report as summarize_stats.py prints it (HTML tables in markdown), ending with the date line.
pub fn render_markdown(doc: &SummaryDoc) -> String {
    let mut out = String::with_capacity(64 * 1024);
    for s in &doc.sections {
        markdown_section(&mut out, s, doc.comparative, 2);
    }
    out.push_str("---\n");
    let _ = writeln!(
        out,
        "Stats gathered on: {}",
        chrono::Local::now().date_naive()
    );
    out
}

fn markdown_section(out: &mut String, s: &Section, comparative: bool, level: usize) {
    if !s.title.is_empty() {
        let _ = write!(
            out,
            "{} {}\n\n<details>\n<summary> {} </summary>\n\n",
            "#".repeat(level),
            s.title,
            s.summary
        );
    }
    if !s.doc.is_empty() {
        out.push_str(&s.doc);
        out.push('\n');
    }
    if comparative && s.omitted_in_comparative {
        out.push_str("Not included in comparative output.\n\n");
    } else {
        for p in &s.parts {
            match p {
                Part::Section(sub) => markdown_section(out, sub, comparative, level + 1),
                Part::Table(t) => markdown_table(out, t),
            }
        }
    }
    out.push('\n');
    if !s.title.is_empty() {
        out.push_str("</details>\n\n");
    }
}

fn align_name(a: Align) -> &'static str {
    match a {
        Align::Left => "left",
        Align::Right => "right",
    }
}

fn markdown_table(out: &mut String, t: &Table) {
    if t.rows.is_empty() {
        return;
    }
    out.push_str("<table>\n<thead>\n<tr>\n");
    for c in &t.columns {
        let _ = writeln!(out, "<th align=\"{}\">{}</th>", align_name(c.align), c.name);
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>\n");
        for (cell, col) in row.iter().zip(&t.columns) {
            let _ = writeln!(
                out,
                "<td align=\"{}\">{}</td>",
                align_name(col.align),
                cell_markdown(cell)
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n\n");
}

/// The document as JSON (with `schema_version`).
pub fn render_json(doc: &SummaryDoc) -> String {
    let mut s =
        serde_json::to_string_pretty(doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// Aligned plain-text tables for a terminal.
pub fn render_text(doc: &SummaryDoc) -> String {
    let mut out = String::new();
    for s in &doc.sections {
        text_section(&mut out, s, doc.comparative, 1);
    }
    out
}

fn text_section(out: &mut String, s: &Section, comparative: bool, level: usize) {
    let has_rows = section_has_rows(s);
    let omitted = comparative && s.omitted_in_comparative;
    if !has_rows && !omitted {
        return;
    }
    let _ = writeln!(out, "{} {}", "=".repeat(level.min(3)), s.title);
    if comparative && s.omitted_in_comparative {
        out.push_str("  (not included in comparative output)\n\n");
        return;
    }
    out.push('\n');
    for p in &s.parts {
        match p {
            Part::Section(sub) => text_section(out, sub, comparative, level + 1),
            Part::Table(t) => text_table(out, t),
        }
    }
}

fn section_has_rows(s: &Section) -> bool {
    s.parts.iter().any(|p| match p {
        Part::Section(sub) => section_has_rows(sub),
        Part::Table(t) => !t.rows.is_empty(),
    })
}

fn text_table(out: &mut String, t: &Table) {
    if t.rows.is_empty() {
        return;
    }
    let cells: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(cell_text).collect())
        .collect();
    let widths: Vec<usize> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r.get(i).map_or(0, |s| s.chars().count()))
                .chain([c.name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |out: &mut String, vals: Vec<&str>| {
        let mut l = String::from("  ");
        for (i, (v, c)) in vals.iter().zip(&t.columns).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let pad = widths[i].saturating_sub(v.chars().count());
            match c.align {
                Align::Left => {
                    l.push_str(v);
                    l.push_str(&" ".repeat(pad));
                }
                Align::Right => {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(v);
                }
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(out, t.columns.iter().map(|c| c.name.as_str()).collect());
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(out, rule.iter().map(|s| s.as_str()).collect());
    for r in &cells {
        line(out, r.iter().map(|s| s.as_str()).collect());
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_format_like_python() {
        assert_eq!(format_ratio(1, 3, true), "33.3%");
        assert_eq!(format_ratio(2, 3, false), "0.67");
        assert_eq!(format_ratio(5, 0, true), "5 / 0 !!");
        assert_eq!(format_ratio(0, 0, true), "");
        assert_eq!(format_ratio(-1, 3, true), "-33.3%");
        assert_eq!(format_ratio(123456, 1, true), "12,345,600.0%");
    }
}
