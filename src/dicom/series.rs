//! Grouping instances into studies and series, choosing the CT series that matters,
//! and putting its slices in anatomical order with every irregularity reported.
//!
//! Slices are ordered by ImagePositionPatient projected on the slice normal — never by
//! InstanceNumber, which vendors number in either direction and reuse across stacks.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::instance::{AcquisitionFacts, Instance, PatientFacts};
use crate::units::Millimetres;

/// Tolerance under which two slice positions count as the same, in millimetres.
const SAME_POSITION_MM: f64 = 0.01;
/// A step this many times the usual spacing is a gap (missing slices).
const GAP_FACTOR: f64 = 1.5;
/// Spacings further apart than this fraction of the usual one are "uneven".
const UNEVEN_FRACTION: f64 = 0.05;
/// Direction cosines closer than this count as the same orientation.
const SAME_ORIENTATION: f64 = 1e-3;

/// One frame of one input file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SliceRef {
    /// Index of the file in the list given to [`build`].
    pub file: usize,
    pub frame: u32,
    /// Position along the slice normal (mm); larger is more superior for axial stacks.
    pub along_normal: Millimetres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeriesKind {
    /// Original CT images in (near-)axial planes: what body composition needs.
    CtAxial,
    /// CT images in another plane (reformats, oblique stacks).
    CtOtherPlane,
    Localizer,
    SecondaryCapture,
    /// Files without an image: reports, plans, structured documents.
    NoImage,
    OtherModality,
}

impl SeriesKind {
    pub fn label(self) -> &'static str {
        match self {
            SeriesKind::CtAxial => "CT, axial",
            SeriesKind::CtOtherPlane => "CT, not axial",
            SeriesKind::Localizer => "localizer (scout)",
            SeriesKind::SecondaryCapture => "secondary capture or report image",
            SeriesKind::NoImage => "no image (report or document)",
            SeriesKind::OtherModality => "not CT",
        }
    }
}

/// Something about a series a reader should know before trusting measurements on it.
#[derive(Debug, Clone, PartialEq, Error, Serialize, Deserialize)]
pub enum SeriesWarning {
    #[error("gap of {gap_mm:.1} mm above slice {after_slice} where slices are usually {usual_mm:.1} mm apart: slices may be missing")]
    Gap { after_slice: usize, gap_mm: f64, usual_mm: f64 },
    #[error("uneven slice spacing: from {min_mm:.2} to {max_mm:.2} mm")]
    UnevenSpacing { min_mm: f64, max_mm: f64 },
    #[error("{count} slice(s) at a position already taken were set aside (duplicates)")]
    DuplicatePositions { count: usize },
    #[error("{count} slice(s) of a different size than the rest ({rows}×{columns} kept) were set aside")]
    MixedSizes { count: usize, rows: u32, columns: u32 },
    #[error("{count} slice(s) in a different orientation than the rest were set aside")]
    MixedOrientations { count: usize },
    #[error("{count} localizer image(s) inside the series were set aside")]
    LocalizersInSeries { count: usize },
    #[error("slice positions are missing: slices are in file order and distances along the body are unknown")]
    NoPositions,
    #[error("{count} slice(s) without a position were set aside")]
    MissingPositions { count: usize },
    #[error("the slice orientation is not recorded; axial orientation was assumed")]
    NoOrientation,
    #[error("pixel spacing is not recorded: areas in cm² cannot be measured on this series")]
    NoPixelSpacing,
}

/// Geometry shared by the ordered slices of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesGeometry {
    /// Row then column direction cosines (patient LPS).
    pub orientation: [f64; 6],
    /// Unit normal, pointing from slice 0 towards the last slice.
    pub normal: [f64; 3],
    /// Row spacing then column spacing (mm), as DICOM PixelSpacing.
    pub pixel_spacing: Option<[f64; 2]>,
    /// Median distance between consecutive slices (mm); slice thickness for one slice.
    pub slice_spacing: Option<f64>,
    pub slice_thickness: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub study_uid: String,
    pub series_uid: String,
    pub series_number: Option<i64>,
    pub description: String,
    pub modality: String,
    pub kind: SeriesKind,
    /// Every file of the series, in input order (kept or set aside).
    pub files: Vec<usize>,
    /// The slices of the image stack, most inferior first.
    pub slices: Vec<SliceRef>,
    pub rows: u32,
    pub columns: u32,
    pub geometry: Option<SeriesGeometry>,
    pub warnings: Vec<SeriesWarning>,
    pub patient: PatientFacts,
    pub acquisition: AcquisitionFacts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Study {
    pub study_uid: String,
    pub description: String,
    pub date: Option<String>,
    pub series: Vec<Series>,
}

/// Groups instances (indexed by their position in `instances`) into studies and series.
/// Studies and series keep the order in which they were first met.
pub fn build(instances: &[Instance]) -> Vec<Study> {
    let mut studies: Vec<Study> = Vec::new();
    let mut members: Vec<Vec<Vec<usize>>> = Vec::new();
    for (index, inst) in instances.iter().enumerate() {
        let study_at = match studies.iter().position(|s| s.study_uid == inst.study_uid) {
            Some(at) => at,
            None => {
                studies.push(Study {
                    study_uid: inst.study_uid.clone(),
                    description: inst.study_description.clone(),
                    date: inst.acquisition.study_date.clone(),
                    series: Vec::new(),
                });
                members.push(Vec::new());
                studies.len() - 1
            }
        };
        let study = &mut studies[study_at];
        match study.series.iter().position(|s| s.series_uid == inst.series_uid) {
            Some(at) => members[study_at][at].push(index),
            None => {
                study.series.push(empty_series(inst));
                members[study_at].push(vec![index]);
            }
        }
    }
    for (study, series_members) in studies.iter_mut().zip(members) {
        for (series, files) in study.series.iter_mut().zip(series_members) {
            assemble(series, files, instances);
        }
    }
    studies
}

/// The series body composition should be measured on: axial original CT first, then by
/// ORIGINAL/PRIMARY image type, then the most slices. `None` when there is no CT stack.
pub fn choose_ct(studies: &[Study], instances: &[Instance]) -> Option<(usize, usize)> {
    let mut best: Option<((bool, bool, usize), (usize, usize))> = None;
    for (si, study) in studies.iter().enumerate() {
        for (ri, series) in study.series.iter().enumerate() {
            if !matches!(series.kind, SeriesKind::CtAxial | SeriesKind::CtOtherPlane) || series.slices.is_empty() {
                continue;
            }
            let primary = series.slices.first().is_some_and(|s| {
                let t = &instances[s.file].image_type;
                t.iter().any(|x| x == "ORIGINAL") && t.iter().any(|x| x == "PRIMARY")
            });
            let score = (series.kind == SeriesKind::CtAxial, primary, series.slices.len());
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, (si, ri)));
            }
        }
    }
    best.map(|(_, at)| at)
}

fn empty_series(inst: &Instance) -> Series {
    Series {
        study_uid: inst.study_uid.clone(),
        series_uid: inst.series_uid.clone(),
        series_number: inst.series_number,
        description: inst.series_description.clone(),
        modality: inst.modality.clone(),
        kind: SeriesKind::NoImage,
        files: Vec::new(),
        slices: Vec::new(),
        rows: 0,
        columns: 0,
        geometry: None,
        warnings: Vec::new(),
        patient: inst.patient.clone(),
        acquisition: inst.acquisition.clone(),
    }
}

/// One frame with what ordering needs.
struct Candidate {
    slice: SliceRef,
    rows: u32,
    columns: u32,
    position: Option<[f64; 3]>,
    orientation: Option<[f64; 6]>,
}

fn assemble(series: &mut Series, files: Vec<usize>, instances: &[Instance]) {
    let mut candidates = Vec::new();
    let mut localizers = 0;
    for &file in &files {
        let inst = &instances[file];
        if !inst.has_pixel_data || inst.rows == 0 || inst.columns == 0 {
            continue;
        }
        if inst.is_localizer() && inst.modality == "CT" {
            localizers += 1;
            continue;
        }
        for (frame, geometry) in (0..inst.frames).zip(frame_geometries(inst)) {
            candidates.push(Candidate {
                slice: SliceRef {
                    file,
                    frame,
                    along_normal: Millimetres(0.0),
                },
                rows: inst.rows,
                columns: inst.columns,
                position: geometry.0,
                orientation: geometry.1,
            });
        }
    }
    series.files = files;
    let first = series.files.first().map(|&f| &instances[f]);
    series.kind = classify(first, &candidates, localizers);
    if series.kind == SeriesKind::Localizer || candidates.is_empty() {
        return;
    }
    if localizers > 0 {
        series.warnings.push(SeriesWarning::LocalizersInSeries { count: localizers });
    }
    let candidates = keep_majority_size(candidates, &mut series.warnings);
    let candidates = keep_majority_orientation(candidates, &mut series.warnings);
    let Some(head) = candidates.first() else { return };
    series.rows = head.rows;
    series.columns = head.columns;
    let orientation = head.orientation.unwrap_or_else(|| {
        series.warnings.push(SeriesWarning::NoOrientation);
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    });
    let normal = oriented_normal(&orientation);
    let reference = &instances[head.slice.file];
    let (slices, spacing) = order(candidates, normal, &mut series.warnings);
    if reference.pixel_spacing.is_none() {
        series.warnings.push(SeriesWarning::NoPixelSpacing);
    }
    series.geometry = Some(SeriesGeometry {
        orientation,
        normal,
        pixel_spacing: reference.pixel_spacing,
        slice_spacing: spacing.or(reference.slice_thickness),
        slice_thickness: reference.slice_thickness,
    });
    series.slices = slices;
}

fn frame_geometries(inst: &Instance) -> Vec<(Option<[f64; 3]>, Option<[f64; 6]>)> {
    (0..inst.frames as usize)
        .map(|i| {
            let g = inst.frame_geometry.get(i).or(inst.frame_geometry.first());
            (g.and_then(|g| g.position), g.and_then(|g| g.orientation))
        })
        .collect()
}

fn classify(first: Option<&Instance>, candidates: &[Candidate], localizers: usize) -> SeriesKind {
    let Some(inst) = first else { return SeriesKind::NoImage };
    if candidates.is_empty() {
        return if localizers > 0 {
            SeriesKind::Localizer
        } else {
            SeriesKind::NoImage
        };
    }
    if inst.is_secondary_or_derived_capture() {
        return SeriesKind::SecondaryCapture;
    }
    if inst.modality != "CT" {
        return SeriesKind::OtherModality;
    }
    let axial = candidates
        .iter()
        .find_map(|c| c.orientation)
        .is_none_or(|o| oriented_normal(&o)[2].abs() > 0.9);
    if axial {
        SeriesKind::CtAxial
    } else {
        SeriesKind::CtOtherPlane
    }
}

fn keep_majority_size(candidates: Vec<Candidate>, warnings: &mut Vec<SeriesWarning>) -> Vec<Candidate> {
    let sizes: Vec<(u32, u32)> = candidates.iter().map(|c| (c.rows, c.columns)).collect();
    let Some(majority) = most_common(&sizes) else { return candidates };
    let (kept, dropped): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|c| (c.rows, c.columns) == majority);
    if !dropped.is_empty() {
        warnings.push(SeriesWarning::MixedSizes {
            count: dropped.len(),
            rows: majority.0,
            columns: majority.1,
        });
    }
    kept
}

fn keep_majority_orientation(candidates: Vec<Candidate>, warnings: &mut Vec<SeriesWarning>) -> Vec<Candidate> {
    let Some(reference) = majority_orientation(&candidates) else { return candidates };
    let same = |o: &Option<[f64; 6]>| {
        o.is_none_or(|o| o.iter().zip(reference).all(|(a, b)| (a - b).abs() < SAME_ORIENTATION))
    };
    let (kept, dropped): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|c| same(&c.orientation));
    if !dropped.is_empty() {
        warnings.push(SeriesWarning::MixedOrientations { count: dropped.len() });
    }
    kept
}

fn majority_orientation(candidates: &[Candidate]) -> Option<[f64; 6]> {
    let orientations: Vec<[f64; 6]> = candidates.iter().filter_map(|c| c.orientation).collect();
    let mut best: Option<([f64; 6], usize)> = None;
    for o in &orientations {
        let count = orientations
            .iter()
            .filter(|p| p.iter().zip(o).all(|(a, b)| (a - b).abs() < SAME_ORIENTATION))
            .count();
        if best.is_none_or(|(_, c)| count > c) {
            best = Some((*o, count));
        }
    }
    best.map(|(o, _)| o)
}

fn most_common<T: PartialEq + Copy>(values: &[T]) -> Option<T> {
    values
        .iter()
        .map(|v| (*v, values.iter().filter(|w| *w == v).count()))
        .max_by_key(|(_, count)| *count)
        .map(|(v, _)| v)
}

/// The slice normal (row × column), turned to point towards the head when it has a
/// head–foot component, so that slice 0 is the most inferior.
fn oriented_normal(o: &[f64; 6]) -> [f64; 3] {
    let n = [
        o[1] * o[5] - o[2] * o[4],
        o[2] * o[3] - o[0] * o[5],
        o[0] * o[4] - o[1] * o[3],
    ];
    let length = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    if length < 1e-6 {
        return [0.0, 0.0, 1.0];
    }
    let sign = if n[2] < 0.0 { -1.0 } else { 1.0 };
    [sign * n[0] / length, sign * n[1] / length, sign * n[2] / length]
}

/// Sorts by position along the normal, removes duplicates, and reports gaps and uneven
/// spacing. Returns the ordered slices and the median spacing.
fn order(
    candidates: Vec<Candidate>,
    normal: [f64; 3],
    warnings: &mut Vec<SeriesWarning>,
) -> (Vec<SliceRef>, Option<f64>) {
    let total = candidates.len();
    let mut placed: Vec<SliceRef> = candidates
        .iter()
        .filter_map(|c| {
            let p = c.position?;
            Some(SliceRef {
                along_normal: Millimetres(p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2]),
                ..c.slice
            })
        })
        .collect();
    if placed.is_empty() {
        warnings.push(SeriesWarning::NoPositions);
        return (candidates.into_iter().map(|c| c.slice).collect(), None);
    }
    if placed.len() < total {
        warnings.push(SeriesWarning::MissingPositions {
            count: total - placed.len(),
        });
    }
    placed.sort_by(|a, b| a.along_normal.0.total_cmp(&b.along_normal.0));
    let before = placed.len();
    placed.dedup_by(|later, earlier| (later.along_normal.0 - earlier.along_normal.0).abs() < SAME_POSITION_MM);
    if placed.len() < before {
        warnings.push(SeriesWarning::DuplicatePositions {
            count: before - placed.len(),
        });
    }
    let steps: Vec<f64> = placed
        .windows(2)
        .map(|w| w[1].along_normal.0 - w[0].along_normal.0)
        .collect();
    let Some(usual) = median(&steps) else { return (placed, None) };
    for (i, step) in steps.iter().enumerate() {
        if *step > usual * GAP_FACTOR {
            warnings.push(SeriesWarning::Gap {
                after_slice: i,
                gap_mm: *step,
                usual_mm: usual,
            });
        }
    }
    let regular: Vec<f64> = steps.iter().copied().filter(|s| *s <= usual * GAP_FACTOR).collect();
    let (min, max) = regular
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| (lo.min(*s), hi.max(*s)));
    if max - min > usual * UNEVEN_FRACTION {
        warnings.push(SeriesWarning::UnevenSpacing {
            min_mm: min,
            max_mm: max,
        });
    }
    (placed, Some(usual))
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}
