//! JSON report: the serialized [`GateReport`] (see `schema_version`).

use super::Exporter;
use crate::gate::report_model::GateReport;

pub struct JsonExporter;

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
