//! A study of a cohort run opened again from the review queue. The Patient view shows it
//! at its row's level with its mask; what the reader corrects there (the level, the
//! mask) becomes the study's row again, marked reviewed with the pixels changed. The
//! corrected row is made by the code that made the run's rows ([`super::Measured`]), so
//! it differs from the first only where the reader changed something.

use super::row::{Outcome, Row};
use super::LevelStatus;
use crate::l3::{L3Choice, L3Method, L3Result};
use crate::report::CaseReport;

/// Which study was opened, and the level its row gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Reopened {
    pub code: String,
    pub folder: String,
    pub study_uid: String,
    /// The CT series the run measured (the Patient view chooses it by the same rules).
    pub series_uid: String,
    /// The row's measurement slice and how it was placed; `None` when the study was not
    /// measured (L3 not found in the scanned range): the reader places it.
    pub level: Option<(usize, LevelStatus)>,
}

impl Reopened {
    /// The study of `row`, whose CT series is `series_uid` of study `study_uid`.
    pub fn of_row(row: &Row, study_uid: &str, series_uid: &str) -> Reopened {
        let slice = row.value("level_slice").and_then(|s| s.parse().ok());
        let status = row.value("l3_status").and_then(LevelStatus::parse);
        Reopened {
            code: row.value("case").unwrap_or_default().to_owned(),
            folder: row.value("source_folder").unwrap_or_default().to_owned(),
            study_uid: study_uid.to_owned(),
            series_uid: series_uid.to_owned(),
            level: slice.zip(status),
        }
    }

    /// The level the Patient view opens on: the row's slice — placed as the automatic
    /// search places it when the search on the same volume finds that slice again (it
    /// is the run's own code), else as given or as set by hand.
    pub fn choice(&self, found: &L3Result) -> Option<L3Choice> {
        let (slice, status) = self.level?;
        let searched = matches!(status, LevelStatus::Found | LevelStatus::Uncertain);
        if let Some(automatic) = L3Choice::automatic(found).filter(|c| searched && c.slice == slice)
        {
            return Some(automatic);
        }
        let method = if status == LevelStatus::Given {
            L3Method::Given
        } else {
            L3Method::Manual
        };
        Some(L3Choice { slice, method })
    }

    /// The study's row after the reader's look: `report` (made from the corrected level
    /// and mask), with where the study was, its series and the time it took kept from
    /// `old`; a study that had failed (L3 not found) is measured now.
    pub fn revised(&self, old: &Row, report: &CaseReport) -> Row {
        let outcome = Outcome {
            folder: old.value("source_folder").unwrap_or_default(),
            level: report.case.scan.level.as_ref().map(LevelStatus::of),
            series: old.value("series").unwrap_or_default(),
            seconds: old
                .value("seconds")
                .and_then(|s| s.parse().ok())
                .unwrap_or_default(),
        };
        Row::measured(report, &outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l3::{Evidence, L3Status};

    fn reopened(slice: usize, status: LevelStatus) -> Reopened {
        Reopened {
            code: "S0001".into(),
            folder: "p01".into(),
            study_uid: "1.2".into(),
            series_uid: "1.2.3".into(),
            level: Some((slice, status)),
        }
    }

    #[test]
    fn the_row_level_is_kept_and_says_how_it_was_placed() {
        let found = L3Result {
            slice_index: Some(40),
            z_mm: None,
            confidence: 0.9,
            status: L3Status::Found,
            vertebrae: Vec::new(),
            evidence: Evidence {
                sacrum_seen: true,
                last_rib_seen: true,
                vertebrae_counted: 5,
                notes: Vec::new(),
            },
        };
        let automatic = L3Choice::automatic(&found);
        assert_eq!(reopened(40, LevelStatus::Found).choice(&found), automatic);
        // Set by hand at another slice before: stays there, by hand.
        let manual = reopened(38, LevelStatus::Manual).choice(&found);
        assert_eq!(
            manual.map(|c| (c.slice, c.method)),
            Some((38, L3Method::Manual))
        );
        // Moved by hand onto the automatic slice: by hand still.
        let manual = reopened(40, LevelStatus::Manual).choice(&found);
        assert_eq!(manual.map(|c| c.method), Some(L3Method::Manual));
        let given = reopened(0, LevelStatus::Given).choice(&found);
        assert_eq!(
            given.map(|c| (c.slice, c.method)),
            Some((0, L3Method::Given))
        );
        let not_measured = Reopened {
            level: None,
            ..reopened(0, LevelStatus::Found)
        };
        assert_eq!(not_measured.choice(&found), None);
    }
}
