//! JSON report: the serialized [`GateReport`] (see `schema_version`).

use super::Exporter;
use crate::gate::report_model::GateReport;

pub struct JsonExporter;

/// Writes the JSON report to `w` as it is serialized: the same bytes as
/// [`JsonExporter`]'s render, without holding the document (hundreds of MB at 5,000
/// benchmarks) in memory.
pub fn write_json(report: &GateReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    // An I/O error comes back as itself (a closed pipe stays a closed pipe).
    serde_json::to_writer_pretty(&mut *w, report).map_err(std::io::Error::from)?;
    w.write_all(b"\n")
}

impl Exporter for JsonExporter {
    fn render(&self, report: &GateReport) -> Vec<u8> {
        let mut s = serde_json::to_string_pretty(report).expect("a GateReport always serializes");
        s.push('\n');
        s.into_bytes()
    }
    fn file_name(&self) -> &'static str {
        "report.json"
    }
}
