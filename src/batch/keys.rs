//! The key table: the one place where a case code meets the patient — the study's UID
//! and date, its folder and the PatientID. It never enters the cohort table; it is
//! written by `sarcoscope batch --keys` and by the Cohort view only on explicit request,
//! as a file of its own, so that the hospital can link the de-identified rows back to
//! its records (and join a clinical table kept by PatientID).

use serde::{Deserialize, Serialize};

use super::Study;
use crate::csv::{self, CsvError};

/// The columns, in order (files written before `patient_id` was added read alike).
pub const COLUMNS: [&str; 5] = [
    "case",
    "study_uid",
    "study_date",
    "source_folder",
    "patient_id",
];

/// One study's line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyRow {
    pub case: String,
    pub study_uid: String,
    pub study_date: String,
    pub folder: String,
    pub patient_id: String,
}

impl KeyRow {
    /// The line of the study coded `case`; `study` is `None` for a folder without a
    /// readable DICOM file.
    pub fn of(case: &str, study: Option<&Study>, folder: &str) -> KeyRow {
        KeyRow {
            case: case.to_owned(),
            study_uid: study.map(|s| s.study_uid.clone()).unwrap_or_default(),
            study_date: study.map(|s| s.study_date.clone()).unwrap_or_default(),
            folder: folder.to_owned(),
            patient_id: study.map(|s| s.patient_id.clone()).unwrap_or_default(),
        }
    }

    /// What tells the study apart in a run, as [`Study::key`] says it.
    pub fn study_key(&self) -> String {
        if self.study_uid.is_empty() {
            format!("folder:{}", self.folder)
        } else {
            self.study_uid.clone()
        }
    }

    pub fn line(&self) -> String {
        csv::line(&[
            &self.case,
            &self.study_uid,
            &self.study_date,
            &self.folder,
            &self.patient_id,
        ])
    }
}

pub fn header() -> String {
    csv::line(&COLUMNS)
}

/// The whole key table, header first.
pub fn table(rows: &[KeyRow]) -> String {
    let mut lines = vec![header()];
    lines.extend(rows.iter().map(KeyRow::line));
    lines.join("\r\n") + "\r\n"
}

/// A key table read back, by its columns' names (a missing column reads as empty).
pub fn parse(text: &str) -> Result<Vec<KeyRow>, CsvError> {
    let rows = csv::parse(text)?;
    let Some((header, rows)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    let at = |name: &str| header.iter().position(|h| h == name);
    let columns = COLUMNS.map(at);
    Ok(rows
        .iter()
        .map(|row| {
            let cell = |k: usize| {
                columns[k]
                    .and_then(|i| row.get(i))
                    .cloned()
                    .unwrap_or_default()
            };
            KeyRow {
                case: cell(0),
                study_uid: cell(1),
                study_date: cell(2),
                folder: cell(3),
                patient_id: cell(4),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_table_is_read_back_and_an_older_one_without_patient_id_too() {
        let rows = vec![
            KeyRow {
                case: "S0001".into(),
                study_uid: "1.2.3".into(),
                study_date: "20240131".into(),
                folder: "p01".into(),
                patient_id: "MRN, 0042".into(),
            },
            KeyRow {
                case: "S0002".into(),
                folder: "notes".into(),
                ..KeyRow::default()
            },
        ];
        assert_eq!(parse(&table(&rows)), Ok(rows.clone()));
        assert_eq!(rows[1].study_key(), "folder:notes");
        let older = "case,study_uid,study_date,source_folder\r\nS0001,1.2.3,20240131,p01\r\n";
        let read = parse(older).expect("read");
        assert_eq!(read[0].study_key(), "1.2.3");
        assert_eq!(read[0].patient_id, "");
    }
}
