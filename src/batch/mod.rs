//! A whole centre's CT archive measured unattended: every study under a root folder
//! grouped ([`studies`]), its abdominal CT chosen as the single-patient view chooses
//! it, L3 found — or taken as given when the study holds only a slice or a few, as
//! body-composition archives often do — segmented and measured, and one row per study
//! ([`row`]): measured, or failed with a plain reason; nothing skipped unseen.
//!
//! A study goes through [`prepare`] (reading comes in as a closure, so the command line
//! and, later, the browser's workers run the same code), the segmentation (the caller's:
//! natively at once, in the browser in its worker), then [`finish`], which makes the
//! same [`CaseReport`] the single-patient view makes.

pub mod clinical;
pub mod codes;
pub mod keys;
pub mod masks;
pub mod reopen;
pub mod review;
pub mod row;
pub mod run;
pub mod studies;

pub use studies::{group, unreadable_folders, Study};

use crate::body::{
    Anthropometry, Composition, Height, HeightSource, MyosteatosisCutoffs, SmiCutoffs,
};
use crate::clinical::eligibility::{self, Answers};
use crate::clinical::{ClinicalInputs, ScoreSheet};
use crate::dicom::{DicomError, PatientFacts};
use crate::ingest::{FileIndex, SeriesFiles};
use crate::l3::{self, L3Choice, L3Method, L3Result, L3Status};
use crate::report::{CaseInputs, CaseReport, ScanFacts, SegmentationFacts};
use crate::segment::{AxialSlice, SliceError, TissueMask};
use crate::sex::Sex;
use crate::volume::{self, Volume, VolumeError, VolumeHeader};

/// Why a study has no measurement, in words for the coordinator's table.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("no DICOM file in this folder could be read")]
    Unreadable,
    #[error("no CT image series in this study (it holds {0})")]
    NoCt(String),
    #[error("the CT series could not be read")]
    Volume(#[source] VolumeError),
    #[error("L3 was not found in the scanned range ({0})")]
    NoL3(String),
    #[error("the measurement slice cannot be segmented")]
    Slice(#[source] SliceError),
    #[error("the segmentation failed: {0}")]
    Segmentation(String),
    #[error("the mask could not be written as DICOM SEG")]
    Mask(#[source] crate::report::seg::SegError),
    /// The program measuring the study ended without an answer (natively a process of
    /// its own per study, in the browser a worker): only this study is lost.
    #[error("measuring this study stopped the program ({0}); one of its files may be damaged, and the other studies were measured")]
    Stopped(String),
}

impl StudyError {
    /// The message with its causes, as one line for the table.
    pub fn reason(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// How the measured slice was placed, as the cohort table's `l3_status` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelStatus {
    Found,
    Uncertain,
    NotInScan,
    Given,
    Manual,
}

impl LevelStatus {
    /// How `choice` was made.
    pub fn of(choice: &L3Choice) -> LevelStatus {
        match &choice.method {
            L3Method::Automatic { status, .. } => match status {
                L3Status::Found => LevelStatus::Found,
                L3Status::Uncertain => LevelStatus::Uncertain,
                L3Status::NotInScan => LevelStatus::NotInScan,
            },
            L3Method::Given => LevelStatus::Given,
            L3Method::Manual => LevelStatus::Manual,
        }
    }

    const ALL: [LevelStatus; 5] = [
        LevelStatus::Found,
        LevelStatus::Uncertain,
        LevelStatus::NotInScan,
        LevelStatus::Given,
        LevelStatus::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LevelStatus::Found => "found",
            LevelStatus::Uncertain => "uncertain",
            LevelStatus::NotInScan => "not_in_scan",
            LevelStatus::Given => "given",
            LevelStatus::Manual => "manual",
        }
    }

    /// The status a table's `l3_status` cell names; `None` for an empty or unknown one.
    pub fn parse(text: &str) -> Option<LevelStatus> {
        LevelStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A study made ready to segment.
pub struct Prepared {
    /// The series' volume header; its voxels are gone but for the measured slice.
    pub header: VolumeHeader,
    /// The HU of the measured slice.
    pub hu: Vec<i16>,
    pub level: L3Choice,
    pub patient: PatientFacts,
    pub scan: ScanFacts,
    pub series_description: String,
    /// Files of the series that could not be decoded (their slices stay empty).
    pub failed_files: usize,
}

/// Reads a study's CT series and places the measurement slice. `read(file)` gives a
/// file's bytes.
pub fn prepare(
    study: &Study,
    mut read: impl FnMut(FileIndex) -> Result<Vec<u8>, DicomError>,
) -> Result<Prepared, StudyError> {
    let files = study.ct.as_ref().map_err(|m| StudyError::NoCt(m.clone()))?;
    let (volume, failures) = volume::load(
        &files.series,
        &files.instances,
        |local| read(files.files[local]),
        |_, _| {},
    )
    .map_err(StudyError::Volume)?;
    Prepared::new(StudySlice::of(volume, failures.len()), files)
}

/// Where a study is measured: the automatic L3 (`found`, searched on the volume) or, for
/// a study of fewer than [`l3::MIN_SLICES`] slices, the middle one as given.
pub fn measured_level(
    header: &VolumeHeader,
    found: Option<&L3Result>,
) -> Result<L3Choice, StudyError> {
    match found {
        _ if header.slices < l3::MIN_SLICES => Ok(L3Choice {
            slice: header.slices / 2,
            method: L3Method::Given,
        }),
        None => Err(StudyError::NoL3("it was not searched for".into())),
        Some(found) => L3Choice::automatic(found)
            .filter(|_| found.status != L3Status::NotInScan)
            .ok_or_else(|| StudyError::NoL3(found.evidence.notes.join("; "))),
    }
}

/// A decoded study reduced to what is measured: the volume's header, the L3 search made
/// on the whole volume, and the HU of the one slice [`measured_level`] places. The
/// browser's decoding worker cuts it and hands the page half a megabyte instead of the
/// volume (157 MB for 300 slices of 512²).
#[derive(Debug, Clone, PartialEq)]
pub struct StudySlice {
    pub header: VolumeHeader,
    /// `None`: too few slices to search.
    pub found: Option<L3Result>,
    /// Empty when no slice is measured (no L3 was found).
    pub hu: Vec<i16>,
    /// Files of the series that could not be decoded (their slices stay empty).
    pub failed_files: usize,
}

impl StudySlice {
    /// Searches `volume` for L3 (when it has the slices for it) and cuts the measured
    /// slice out of it.
    pub fn of(volume: Volume, failed_files: usize) -> StudySlice {
        let found = (volume.header.slices >= l3::MIN_SLICES).then(|| l3::locate(&volume));
        let hu = measured_level(&volume.header, found.as_ref())
            .ok()
            .and_then(|level| volume.axial(level.slice))
            .map(<[i16]>::to_vec)
            .unwrap_or_default();
        StudySlice {
            header: volume.header,
            found,
            hu,
            failed_files,
        }
    }
}

impl Prepared {
    /// A decoded study with its slice placed ([`measured_level`]).
    pub fn new(slice: StudySlice, files: &SeriesFiles) -> Result<Prepared, StudyError> {
        let level = measured_level(&slice.header, slice.found.as_ref())?;
        AxialSlice::of_header(&slice.hu, &slice.header).map_err(StudyError::Slice)?;
        let first = files.instances.first();
        let acquisition = first.map(|i| i.acquisition.clone()).unwrap_or_default();
        let scan = ScanFacts::new(&acquisition, &slice.header, Some(level.clone()));
        Ok(Prepared {
            level,
            patient: first.map(|i| i.patient.clone()).unwrap_or_default(),
            scan,
            series_description: files.series.description.clone(),
            failed_files: slice.failed_files,
            header: slice.header,
            hu: slice.hu,
        })
    }

    pub fn level_status(&self) -> LevelStatus {
        LevelStatus::of(&self.level)
    }

    pub fn slice(&self) -> Result<AxialSlice<'_>, SliceError> {
        AxialSlice::of_header(&self.hu, &self.header)
    }
}

/// The cut-off sets a run applies to every study.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub smi_cutoffs: SmiCutoffs,
    pub myosteatosis_cutoffs: MyosteatosisCutoffs,
}

/// Sex, height and weight as the DICOM header records them (height to a tenth of a
/// centimetre, as the single-patient form shows it); an implausible value is left out,
/// as the form would refuse it.
pub fn anthropometry(patient: &PatientFacts) -> Anthropometry {
    Anthropometry {
        sex: patient.sex.as_deref().and_then(Sex::parse),
        height: patient
            .height_m
            .and_then(|m| Height::new((m * 1000.0).round() / 1000.0, HeightSource::Recorded).ok()),
        weight_kg: patient
            .weight_kg
            .and_then(|kg| Anthropometry::checked_weight(kg).ok()),
    }
}

/// The study's report from its mask: what the single-patient view shows for the same
/// slice, mask and header (no laboratory values yet: scores stay empty until a
/// clinical table is joined).
pub fn finish(
    prepared: &Prepared,
    mask: &TissueMask,
    segmentation: SegmentationFacts,
    case_code: &str,
    settings: Settings,
) -> Result<CaseReport, StudyError> {
    let measured = Measured {
        slice: prepared.slice().map_err(StudyError::Slice)?,
        patient: &prepared.patient,
        scan: prepared.scan.clone(),
    };
    Ok(measured.report(mask, segmentation, case_code, settings))
}

/// What a study's report is made of besides its mask: the measurement slice, who was
/// scanned and how. The batch has it from [`Prepared`]; a study opened again from the
/// review queue has it from the Patient view, so that a corrected row is made as the
/// run made it.
pub struct Measured<'a> {
    pub slice: AxialSlice<'a>,
    pub patient: &'a PatientFacts,
    pub scan: ScanFacts,
}

impl Measured<'_> {
    pub fn report(
        &self,
        mask: &TissueMask,
        segmentation: SegmentationFacts,
        case_code: &str,
        settings: Settings,
    ) -> CaseReport {
        let body = anthropometry(self.patient);
        let composition = Composition::of(mask, &self.slice, &body);
        let age_years = self.patient.age_years();
        let clinical = ClinicalInputs {
            sex: body.sex,
            age_years,
            ..ClinicalInputs::default()
        };
        // MELD-Sarcopenia's call uses Martin 2013's cut-offs, as in the single-patient view.
        let sarcopenic =
            crate::body::sarcopenia(&composition, &body, SmiCutoffs::Martin2013).present;
        CaseReport::new(CaseInputs {
            case_code: Some(case_code.to_owned()),
            identifiers: None,
            age_years,
            scan: self.scan.clone(),
            segmentation: Some(segmentation),
            body,
            composition: Some(composition),
            smi_cutoffs: settings.smi_cutoffs,
            myosteatosis_cutoffs: settings.myosteatosis_cutoffs,
            scores: ScoreSheet::compute(&clinical, sarcopenic),
            eligibility: eligibility::assess(&clinical.labs, age_years, &Answers::default()),
        })
    }
}
