//! A reader study: readers work through the same list of cases, each opened at the
//! automatic L3 with the automatic mask (or a blank one, for independent tracing, as the
//! study chooses), correct or draw it and mark it done. Per case and reader the study
//! keeps who, how long, how many pixels of each tissue changed, the level and the final
//! mask with what it measures; two readers' records of the same cases give the
//! inter-reader agreement with the statistics of [`super::case`].
//!
//! Plain data: the page keeps it in the browser's database (IndexedDB) after every case,
//! so a reload loses nothing, and exports it.

use serde::{Deserialize, Serialize};

use super::case::{CaseAgreement, LevelDistance, Measured};
use super::overlap::Overlap;
use crate::report::seg::SegContext;
use crate::segment::{TissueClass, TissueMask};
use crate::units::Millimetres;

/// What each case starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// The automatic mask, to correct.
    #[default]
    Automatic,
    /// Nothing: the reader traces every tissue (independent reading).
    Blank,
}

impl Start {
    pub fn key(self) -> &'static str {
        match self {
            Start::Automatic => "automatic",
            Start::Blank => "blank",
        }
    }

    pub fn from_key(key: &str) -> Start {
        if key == "blank" {
            Start::Blank
        } else {
            Start::Automatic
        }
    }
}

/// A mask as runs of equal labels, row-major: a 512² mask is a few kilobytes, not a
/// quarter of a megabyte, in the browser's database and the study's export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Runs {
    pub columns: usize,
    pub rows: usize,
    /// (label, run length).
    pub runs: Vec<(u8, u32)>,
}

impl Runs {
    pub fn of(mask: &TissueMask) -> Runs {
        let mut runs: Vec<(u8, u32)> = Vec::new();
        for &label in mask.labels() {
            match runs.last_mut() {
                Some((l, n)) if *l == label && *n < u32::MAX => *n += 1,
                _ => runs.push((label, 1)),
            }
        }
        Runs {
            columns: mask.columns,
            rows: mask.rows,
            runs,
        }
    }

    /// The mask again; `None` when the runs do not fill the grid or hold a label that is
    /// no tissue (a damaged record).
    pub fn mask(&self) -> Option<TissueMask> {
        let len = self.columns.checked_mul(self.rows)?;
        let total: u64 = self.runs.iter().map(|&(_, n)| u64::from(n)).sum();
        if total != len as u64
            || self
                .runs
                .iter()
                .any(|&(l, _)| TissueClass::from_label(l).is_none())
        {
            return None;
        }
        let mut labels = Vec::with_capacity(len);
        for &(label, n) in &self.runs {
            labels.extend(std::iter::repeat_n(label, n as usize));
        }
        TissueMask::from_labels(self.columns, self.rows, labels)
    }
}

/// Where the traced slice lies, as its DICOM SEG export places it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TracedSlice {
    /// Row, column spacing (mm).
    pub pixel_spacing: [f64; 2],
    pub slice_thickness: Option<f64>,
    /// ImagePositionPatient of the slice.
    pub position: Option<[f64; 3]>,
    pub orientation: [f64; 6],
    /// The slice in its series (most inferior first) and its position along the body.
    pub slice: usize,
    pub z_mm: f64,
}

/// One reader's finished case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub case: String,
    /// The reader's name or code, as typed.
    pub reader: String,
    pub start: Start,
    /// From opening the case to marking it done.
    pub seconds: f64,
    /// Pixels the reader changed, per tissue (muscle, IMAT, VAT, SAT): those that became
    /// or stopped being that tissue, against the mask the case started from.
    pub changed: [usize; 4],
    pub placement: TracedSlice,
    pub mask: Runs,
    pub measured: Measured,
    /// When it was marked done (ISO 8601, UTC).
    pub done_at: String,
}

/// Pixels changed per tissue between the mask a case started from and the final one.
pub fn changed(start: &TissueMask, end: &TissueMask) -> [usize; 4] {
    let mut changed = [0; 4];
    for (&a, &b) in start.labels().iter().zip(end.labels()) {
        if a == b {
            continue;
        }
        for (k, t) in TissueClass::TISSUES.iter().enumerate() {
            if a == t.label() || b == t.label() {
                changed[k] += 1;
            }
        }
    }
    changed
}

/// The study: its cases, how they start, and every record made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReaderStudy {
    /// The case names (subfolders of the folder chosen), in working order.
    pub cases: Vec<String>,
    pub start: Start,
    pub records: Vec<Record>,
}

impl ReaderStudy {
    /// Keeps `record`, replacing the same reader's earlier record of the case.
    pub fn record(&mut self, record: Record) {
        self.records
            .retain(|r| !(r.case == record.case && r.reader == record.reader));
        self.records.push(record);
    }

    pub fn record_of(&self, reader: &str, case: &str) -> Option<&Record> {
        self.records
            .iter()
            .find(|r| r.reader == reader && r.case == case)
    }

    /// The first case `reader` has not done.
    pub fn next_case(&self, reader: &str) -> Option<&str> {
        self.cases
            .iter()
            .find(|c| self.record_of(reader, c).is_none())
            .map(String::as_str)
    }

    /// The readers with at least one record, in the order they first appear.
    pub fn readers(&self) -> Vec<String> {
        let mut readers: Vec<String> = Vec::new();
        for r in &self.records {
            if !readers.contains(&r.reader) {
                readers.push(r.reader.clone());
            }
        }
        readers
    }

    /// Reader `first` against reader `second` on every case both have done: the masks'
    /// overlap where they traced the same slice (none where they chose different
    /// levels), the measurements and calls each made, and how far apart their levels
    /// lie ("reference" is `second`). Cases with a damaged mask are left out.
    pub fn inter_reader(&self, first: &str, second: &str) -> Vec<CaseAgreement> {
        self.cases
            .iter()
            .filter_map(|case| {
                let a = self.record_of(first, case)?;
                let b = self.record_of(second, case)?;
                let (ma, mb) = (a.mask.mask()?, b.mask.mask()?);
                let same_slice = a.placement.slice == b.placement.slice
                    && (ma.columns, ma.rows) == (mb.columns, mb.rows);
                let tissues = if same_slice {
                    let [row, column] = a.placement.pixel_spacing.map(Millimetres);
                    TissueClass::TISSUES
                        .iter()
                        .map(|&t| {
                            (
                                t,
                                Overlap::of(&ma.of(t), &mb.of(t), ma.columns, [row, column]),
                            )
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                Some(CaseAgreement {
                    case: case.clone(),
                    tissues,
                    auto: a.measured.clone(),
                    reference: b.measured.clone(),
                    level: Some(LevelDistance {
                        reference_slice: a.placement.slice,
                        auto_slice: b.placement.slice,
                        slices: a.placement.slice as i64 - b.placement.slice as i64,
                        mm: a.placement.z_mm - b.placement.z_mm,
                    }),
                })
            })
            .collect()
    }

    /// A record's mask as a DICOM SEG (de-identified: it names no patient or source
    /// image, only where the slice lies), made by the reader; `None` for a damaged record.
    pub fn seg(record: &Record, unix_seconds: i64) -> Option<Vec<u8>> {
        let (date, time) = crate::report::seg::date_time(unix_seconds);
        let p = &record.placement;
        let ctx = SegContext {
            pixel_spacing: p.pixel_spacing,
            slice_thickness: p.slice_thickness,
            position: p.position,
            orientation: p.orientation,
            source: None,
            model: format!("reader {}", record.reader),
            edited: true,
            date,
            time,
        };
        crate::report::seg::write(&record.mask.mask()?, &ctx).ok()
    }

    /// Every record's mask as a DICOM SEG, `CASE/READER.dcm`, in one ZIP (names kept to
    /// letters, digits, `-`, `_` and `.`; a damaged record is left out).
    pub fn seg_zip(&self, unix_seconds: i64) -> Result<Vec<u8>, crate::zip::ZipError> {
        let clean = |name: &str| -> String {
            name.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        let files: Vec<(String, Vec<u8>)> = self
            .records
            .iter()
            .filter_map(|r| {
                let name = format!("{}/{}.dcm", clean(&r.case), clean(&r.reader));
                Some((name, Self::seg(r, unix_seconds)?))
            })
            .collect();
        let entries: Vec<crate::zip::Entry> = files
            .iter()
            .map(|(name, bytes)| crate::zip::Entry::of(name, bytes))
            .collect();
        let frame = crate::zip::stored(&entries)?;
        let mut zip = Vec::new();
        for (header, (_, bytes)) in frame.headers.iter().zip(&files) {
            zip.extend_from_slice(header);
            zip.extend_from_slice(bytes);
        }
        zip.extend_from_slice(&frame.end);
        Ok(zip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(labels: &[u8]) -> TissueMask {
        TissueMask::from_labels(labels.len(), 1, labels.to_vec()).expect("labels")
    }

    fn measured(sma: f64) -> Measured {
        Measured {
            sma_cm2: sma,
            smi: None,
            muscle_hu: Some(40.0),
            sarcopenia: None,
            myosteatosis: None,
        }
    }

    fn record(case: &str, reader: &str, labels: &[u8], slice: usize) -> Record {
        Record {
            case: case.into(),
            reader: reader.into(),
            start: Start::Automatic,
            seconds: 30.0,
            changed: [0; 4],
            placement: TracedSlice {
                pixel_spacing: [1.0, 1.0],
                slice_thickness: Some(3.0),
                position: Some([0.0, 0.0, 3.0 * slice as f64]),
                orientation: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                slice,
                z_mm: 3.0 * slice as f64,
            },
            mask: Runs::of(&mask(labels)),
            measured: measured(labels.iter().filter(|&&l| l == 1).count() as f64),
            done_at: "2026-12-02T10:00:00Z".into(),
        }
    }

    #[test]
    fn runs_give_the_mask_back_and_refuse_a_damaged_one() {
        let m = mask(&[0, 0, 1, 1, 1, 4, 0, 2]);
        let runs = Runs::of(&m);
        assert_eq!(runs.runs, vec![(0, 2), (1, 3), (4, 1), (0, 1), (2, 1)]);
        assert_eq!(runs.mask(), Some(m));
        let short = Runs {
            runs: vec![(0, 2)],
            ..runs.clone()
        };
        assert_eq!(short.mask(), None);
        let odd = Runs {
            runs: vec![(9, 8)],
            ..runs
        };
        assert_eq!(odd.mask(), None);
    }

    #[test]
    fn changes_are_counted_per_tissue_both_ways() {
        let start = mask(&[1, 1, 0, 3, 4]);
        let end = mask(&[1, 0, 1, 4, 4]);
        // Pixel 1: muscle removed; 2: muscle added; 3: VAT became SAT.
        assert_eq!(changed(&start, &end), [2, 0, 1, 1]);
    }

    #[test]
    fn each_reader_works_through_the_cases_and_records_replace() {
        let mut study = ReaderStudy {
            cases: vec!["a".into(), "b".into(), "c".into()],
            ..ReaderStudy::default()
        };
        assert_eq!(study.next_case("R1"), Some("a"));
        study.record(record("a", "R1", &[1, 1, 0], 10));
        study.record(record("b", "R1", &[1, 0, 0], 10));
        assert_eq!(study.next_case("R1"), Some("c"));
        assert_eq!(study.next_case("R2"), Some("a"));
        study.record(record("a", "R1", &[1, 1, 1], 10));
        assert_eq!(study.records.len(), 2, "a redone case replaces its record");
        assert_eq!(study.readers(), vec!["R1".to_owned()]);
    }

    #[test]
    fn two_readers_compare_on_the_cases_both_did() {
        let mut study = ReaderStudy {
            cases: vec!["a".into(), "b".into(), "c".into()],
            ..ReaderStudy::default()
        };
        study.record(record("a", "R1", &[1, 1, 0, 0], 10));
        study.record(record("a", "R2", &[1, 0, 0, 0], 10));
        study.record(record("b", "R1", &[1, 1, 1, 0], 10));
        study.record(record("b", "R2", &[1, 1, 1, 0], 12));
        study.record(record("c", "R1", &[1, 0, 0, 0], 10));
        let cases = study.inter_reader("R1", "R2");
        assert_eq!(cases.len(), 2, "c has one reader only");
        let muscle = cases[0].tissues[0].1.dice.expect("both hold muscle");
        assert!((muscle - 2.0 / 3.0).abs() < 1e-12);
        assert!(cases[1].tissues.is_empty(), "different slices: no overlap");
        let level = cases[1].level.expect("level");
        assert_eq!((level.slices, level.mm), (-2, -6.0));
        assert_eq!(
            (cases[0].auto.sma_cm2, cases[0].reference.sma_cm2),
            (2.0, 1.0)
        );
    }

    #[test]
    fn a_readers_mask_exports_as_a_segmentation() {
        let r = record("a", "R1", &[1, 1, 0, 4], 10);
        let bytes = ReaderStudy::seg(&r, 1_764_670_000).expect("SEG");
        let masks = crate::agree::seg::read(&bytes, &Default::default()).expect("reads back");
        assert_eq!(masks.len(), 1);
        assert_eq!(masks[0].mask, r.mask.mask().expect("mask"));
    }
}
