//! The cohort table: one row per study, the single-patient export's columns (case code,
//! tool, measurements, calls with their cut-off set and version, QC flags — no
//! identifier) followed by the batch's own: where the study was, whether it was
//! measured and if not why, how its slice was placed, the series and the time it took.
//! The statistics view and R read it as they read the single-patient export.

use super::{LevelStatus, Settings, StudyError};
use crate::body::Anthropometry;
use crate::clinical::eligibility::{self, Answers};
use crate::clinical::{ClinicalInputs, ScoreSheet};
use crate::csv;
use crate::report::{CaseInputs, CaseReport, ScanFacts};

/// What the batch adds after the single-patient columns.
pub const BATCH_COLUMNS: [&str; 6] = [
    "source_folder",
    "status",
    "reason",
    "l3_status",
    "series",
    "seconds",
];

/// The single-patient columns a failed study still fills: who it is and under which
/// cut-offs the run was made.
const KEPT_WHEN_FAILED: [&str; 5] = [
    "case",
    "tool",
    "smi_cutoffs",
    "myosteatosis_cutoffs",
    "cutoffs_version",
];

/// One study's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub columns: Vec<(&'static str, String)>,
}

/// Where a study was and how far it got.
pub struct Outcome<'a> {
    pub folder: &'a str,
    pub level: Option<LevelStatus>,
    pub series: &'a str,
    pub seconds: f64,
}

impl Row {
    pub fn measured(report: &CaseReport, outcome: &Outcome<'_>) -> Row {
        let mut columns = report.columns();
        columns.extend(batch(outcome, "measured", String::new()));
        Row { columns }
    }

    /// A study that was not measured: the reason in words and its causes.
    pub fn failed(
        case_code: &str,
        settings: Settings,
        error: &StudyError,
        outcome: &Outcome<'_>,
    ) -> Row {
        let mut columns: Vec<(&'static str, String)> = empty_report(case_code, settings)
            .columns()
            .into_iter()
            .map(|(name, value)| {
                let kept = KEPT_WHEN_FAILED.contains(&name);
                (name, if kept { value } else { String::new() })
            })
            .collect();
        columns.extend(batch(outcome, "failed", error.reason()));
        Row { columns }
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn batch(outcome: &Outcome<'_>, status: &str, reason: String) -> [(&'static str, String); 6] {
    [
        ("source_folder", outcome.folder.to_owned()),
        ("status", status.to_owned()),
        ("reason", reason),
        (
            "l3_status",
            outcome.level.map_or("", LevelStatus::as_str).to_owned(),
        ),
        ("series", outcome.series.to_owned()),
        ("seconds", format!("{:.1}", outcome.seconds)),
    ]
}

/// A report with nothing measured: the names of every column, and the run's settings.
fn empty_report(case_code: &str, settings: Settings) -> CaseReport {
    let clinical = ClinicalInputs::default();
    CaseReport::new(CaseInputs {
        case_code: Some(case_code.to_owned()),
        identifiers: None,
        age_years: None,
        scan: ScanFacts::default(),
        segmentation: None,
        body: Anthropometry::default(),
        composition: None,
        smi_cutoffs: settings.smi_cutoffs,
        myosteatosis_cutoffs: settings.myosteatosis_cutoffs,
        scores: ScoreSheet::compute(&clinical, None),
        eligibility: eligibility::assess(&clinical.labs, None, &Answers::default()),
    })
}

/// The columns of the cohort table, in order (every row has them all).
pub fn names(settings: Settings) -> Vec<&'static str> {
    empty_report("", settings)
        .columns()
        .into_iter()
        .map(|(n, _)| n)
        .chain(BATCH_COLUMNS)
        .collect()
}

/// The header line of the cohort table.
pub fn header(settings: Settings) -> String {
    csv::line(&names(settings))
}

/// The whole cohort table: the header, then a line per row.
pub fn table(settings: Settings, rows: &[Row]) -> String {
    let mut lines = vec![header(settings)];
    lines.extend(rows.iter().map(Row::line));
    lines.join("\r\n") + "\r\n"
}

impl Row {
    /// The row as one CSV line, in the header's order.
    pub fn line(&self) -> String {
        csv::line(&self.values())
    }

    pub fn values(&self) -> Vec<&str> {
        self.columns.iter().map(|(_, v)| v.as_str()).collect()
    }

    /// A row read back (a saved run): `None` unless it has every column.
    pub fn from_values(names: &[&'static str], values: &[String]) -> Option<Row> {
        (names.len() == values.len()).then(|| Row {
            columns: names.iter().copied().zip(values.iter().cloned()).collect(),
        })
    }
}

/// Two cells of a column in order: numbers by value and before words, words
/// alphabetically, empty cells last (a failed study's empty SMA sorts after every SMA).
pub fn compare_values(a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_sort_numbers_by_value_then_words_then_empty() {
        let mut cells = vec!["", "120.5", "found", "9.75", "given", ""];
        cells.sort_by(|a, b| compare_values(Some(a), Some(b)));
        assert_eq!(cells, ["9.75", "120.5", "found", "given", "", ""]);
        assert_eq!(compare_values(None, Some("1")), std::cmp::Ordering::Greater);
    }
}
