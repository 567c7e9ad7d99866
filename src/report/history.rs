//! History renderers: the terminal sparklines, the HTML charts and the JSON of `history show`.

use crate::model::history::HistoryTrends;

/// The trends as JSON (an array, no trailing newline).
pub fn render_json(h: &HistoryTrends) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&h.trends)
}

/// Unicode sparkline of `values` scaled to their own range.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    values
        .iter()
        .map(|v| {
            if hi > lo {
                BARS[(((v - lo) / (hi - lo)) * 7.0).round() as usize]
            } else {
                BARS[3]
            }
        })
        .collect()
}

/// The terminal view: one sparkline per metric with its first and last value.
pub fn render_text(h: &HistoryTrends) -> String {
    let mut s = format!("{} recorded result(s)\n", h.recorded);
    let width = h.trends.iter().map(|t| t.metric.len()).max().unwrap_or(6);
    for t in &h.trends {
        let values: Vec<f64> = t.points.iter().map(|p| p.1).collect();
        let first = values.first().copied().unwrap_or(0.0);
        let last = values.last().copied().unwrap_or(0.0);
        s.push_str(&format!(
            "{:<width$}  {}  first {}  last {}\n",
            t.metric,
            sparkline(&values),
            fmt_num(first),
            fmt_num(last)
        ));
    }
    s
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.4}")
    }
}

/// One self-contained HTML page: an inline SVG line chart per metric.
pub fn render_html(h: &HistoryTrends) -> String {
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pystats-gate history</title>\
<style>body{font-family:sans-serif;max-width:960px;margin:1em auto;padding:0 1em}svg{width:100%;height:auto}\
.chart{margin-bottom:1.5em}h2{font-size:1em;font-family:monospace}</style></head><body>\n",
    );
    s.push_str(&format!(
        "<h1>pystats-gate history</h1><p>{} recorded result(s)</p>\n",
        h.recorded
    ));
    for t in &h.trends {
        let (w, h, pad) = (900.0, 160.0, 30.0);
        let values: Vec<f64> = t.points.iter().map(|p| p.1).collect();
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(*v), h.max(*v))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        let n = values.len().max(2) as f64 - 1.0;
        let pts: Vec<(f64, f64, &str, f64)> = t
            .points
            .iter()
            .enumerate()
            .map(|(i, (label, v))| {
                let x = pad + (w - 2.0 * pad) * i as f64 / n;
                let y = h - pad - (h - 2.0 * pad) * (v - lo) / span;
                (x, y, label.as_str(), *v)
            })
            .collect();
        let poly: Vec<String> = pts
            .iter()
            .map(|(x, y, _, _)| format!("{x:.1},{y:.1}"))
            .collect();
        s.push_str(&format!(
            "<div class=\"chart\"><h2>{}</h2><svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">\
<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>\
<text x=\"2\" y=\"{pad}\" font-size=\"11\">{}</text><text x=\"2\" y=\"{}\" font-size=\"11\">{}</text>\
<polyline fill=\"none\" stroke=\"#1f6feb\" stroke-width=\"2\" points=\"{}\"/>",
            crate::text::html_escape(&t.metric),
            crate::text::html_escape(&t.metric),
            h - pad,
            w - pad,
            h - pad,
            fmt_num(hi),
            h - pad,
            fmt_num(lo),
            poly.join(" ")
        ));
        for (x, y, label, v) in &pts {
            s.push_str(&format!(
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#1f6feb\"><title>{}: {}</title></circle>",
                crate::text::html_escape(label),
                fmt_num(*v)
            ));
        }
        s.push_str("</svg></div>\n");
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_range() {
        assert_eq!(sparkline(&[0.0, 1.0]), "▁█");
        assert_eq!(sparkline(&[5.0, 5.0]), "▄▄");
    }
}
