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
    Gap {
        after_slice: usize,
        gap_mm: f64,
        usual_mm: f64,
    },
    #[error("uneven slice spacing: from {min_mm:.2} to {max_mm:.2} mm")]
    UnevenSpacing { min_mm: f64, max_mm: f64 },
    #[error("{count} slice(s) at a position already taken were set aside (duplicates)")]
    DuplicatePositions { count: usize },
    #[error(
        "{count} slice(s) of a different size than the rest ({rows}×{columns} kept) were set aside"
    )]
    MixedSizes {
        count: usize,
        rows: u32,
        columns: u32,
    },
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
    #[error("the files carry no series identifier; they were grouped by series number, description and image size")]
    NoSeriesUid,
    #[error("{count} colour image(s) in this CT series were set aside")]
    ColourImages { count: usize },
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
    let mut study_keys: Vec<String> = Vec::new();
    let mut members: Vec<Vec<Vec<usize>>> = Vec::new();
    for (index, inst) in instances.iter().enumerate() {
        let key = study_key(inst);
        let study_at = match study_keys.iter().position(|k| *k == key) {
            Some(at) => at,
            None => {
                study_keys.push(key);
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
        let key = series_key(inst);
        match study.series.iter().position(|s| s.series_uid == key) {
            Some(at) => members[study_at][at].push(index),
            None => {
                let mut series = empty_series(inst);
                series.series_uid = key;
                if inst.series_uid.is_empty() {
                    series.warnings.push(SeriesWarning::NoSeriesUid);
                }
                study.series.push(series);
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
    // (axial, original and primary, slice count): higher is better.
    type Score = (bool, bool, usize);
    let mut best: Option<(Score, (usize, usize))> = None;
    for (si, study) in studies.iter().enumerate() {
        for (ri, series) in study.series.iter().enumerate() {
            if !matches!(series.kind, SeriesKind::CtAxial | SeriesKind::CtOtherPlane)
                || series.slices.is_empty()
            {
                continue;
            }
            let primary = series.slices.first().is_some_and(|s| {
                let t = &instances[s.file].image_type;
                t.iter().any(|x| x == "ORIGINAL") && t.iter().any(|x| x == "PRIMARY")
            });
            let score = (
                series.kind == SeriesKind::CtAxial,
                primary,
                series.slices.len(),
            );
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, (si, ri)));
            }
        }
    }
    best.map(|(_, at)| at)
}

/// Makes series refer to files by another numbering: `file_of[i]` is the new number of
/// the file whose instance was `instances[i]` in [`build`] (callers build from the
/// readable files only, then report against every file given).
pub fn renumber_files(studies: &mut [Study], file_of: &[usize]) {
    for series in studies.iter_mut().flat_map(|s| s.series.iter_mut()) {
        for f in &mut series.files {
            *f = file_of.get(*f).copied().unwrap_or(*f);
        }
        for slice in &mut series.slices {
            slice.file = file_of.get(slice.file).copied().unwrap_or(slice.file);
        }
    }
}

/// The study a file belongs to: its Study Instance UID, or for files without one (some
/// anonymisers strip it) what tells studies apart — the patient, the date, the
/// description — so that two patients' exports are never shown as one study. The study
/// keeps its (empty) UID: the key is never written anywhere.
fn study_key(inst: &Instance) -> String {
    if !inst.study_uid.is_empty() {
        return inst.study_uid.clone();
    }
    format!(
        "no study UID: {} {} {}",
        inst.patient_id.as_deref().unwrap_or_default(),
        inst.acquisition.study_date.as_deref().unwrap_or_default(),
        inst.study_description
    )
}

/// The series a file belongs to: its Series Instance UID, or for files without one
/// (some exports strip it) what tells reconstructions apart, so that different series
/// are never interleaved into one stack.
fn series_key(inst: &Instance) -> String {
    if !inst.series_uid.is_empty() {
        return inst.series_uid.clone();
    }
    format!(
        "no series UID: #{} {} {} {}x{} {}",
        inst.series_number
            .map(|n| n.to_string())
            .unwrap_or_default(),
        inst.series_description,
        inst.modality,
        inst.columns,
        inst.rows,
        inst.image_type.join("\\")
    )
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
    let mut colour = 0;
    for &file in &files {
        let inst = &instances[file];
        if !inst.has_pixel_data || inst.rows == 0 || inst.columns == 0 {
            continue;
        }
        if inst.is_localizer() && inst.modality == "CT" {
            localizers += 1;
            continue;
        }
        // A CT stack is grey levels; colour images (screenshots, annotated captures)
        // would be read as nonsense HU.
        if inst.modality == "CT" && inst.samples_per_pixel != 1 {
            colour += 1;
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
    if colour > 0 {
        series
            .warnings
            .push(SeriesWarning::ColourImages { count: colour });
    }
    if localizers > 0 {
        series
            .warnings
            .push(SeriesWarning::LocalizersInSeries { count: localizers });
    }
    let candidates = keep_majority_size(candidates, &mut series.warnings);
    let candidates = keep_majority_orientation(candidates, &mut series.warnings);
    let Some(head) = candidates.first() else {
        return;
    };
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

/// Position and orientation of one frame.
type Placement = (Option<[f64; 3]>, Option<[f64; 6]>);

fn frame_geometries(inst: &Instance) -> Vec<Placement> {
    (0..inst.frames as usize)
        .map(|i| {
            let g = inst.frame_geometry.get(i).or(inst.frame_geometry.last());
            (g.and_then(|g| g.position), g.and_then(|g| g.orientation))
        })
        .collect()
}

fn classify(first: Option<&Instance>, candidates: &[Candidate], localizers: usize) -> SeriesKind {
    let Some(inst) = first else {
        return SeriesKind::NoImage;
    };
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

fn keep_majority_size(
    candidates: Vec<Candidate>,
    warnings: &mut Vec<SeriesWarning>,
) -> Vec<Candidate> {
    let sizes: Vec<(u32, u32)> = candidates.iter().map(|c| (c.rows, c.columns)).collect();
    let Some(majority) = most_common(&sizes) else {
        return candidates;
    };
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

fn keep_majority_orientation(
    candidates: Vec<Candidate>,
    warnings: &mut Vec<SeriesWarning>,
) -> Vec<Candidate> {
    let Some(reference) = majority_orientation(&candidates) else {
        return candidates;
    };
    let same = |o: &Option<[f64; 6]>| {
        o.is_none_or(|o| {
            o.iter()
                .zip(reference)
                .all(|(a, b)| (a - b).abs() < SAME_ORIENTATION)
        })
    };
    let (kept, dropped): (Vec<_>, Vec<_>) =
        candidates.into_iter().partition(|c| same(&c.orientation));
    if !dropped.is_empty() {
        warnings.push(SeriesWarning::MixedOrientations {
            count: dropped.len(),
        });
    }
    kept
}

fn majority_orientation(candidates: &[Candidate]) -> Option<[f64; 6]> {
    let same = |a: &[f64; 6], b: &[f64; 6]| {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() < SAME_ORIENTATION)
    };
    mode(candidates.iter().filter_map(|c| c.orientation), same)
}

fn most_common<T: PartialEq + Copy>(values: &[T]) -> Option<T> {
    mode(values.iter().copied(), |a, b| a == b)
}

/// The most frequent value under `same`. Counts against the distinct values seen so
/// far (a series has one or a few sizes and orientations), keeping at most
/// `MAX_DISTINCT` of them so that damaged headers cannot make this quadratic.
fn mode<T: Copy>(values: impl Iterator<Item = T>, same: impl Fn(&T, &T) -> bool) -> Option<T> {
    const MAX_DISTINCT: usize = 64;
    let mut seen: Vec<(T, usize)> = Vec::new();
    for v in values {
        if let Some((_, count)) = seen.iter_mut().find(|(w, _)| same(w, &v)) {
            *count += 1;
        } else if seen.len() < MAX_DISTINCT {
            seen.push((v, 1));
        }
    }
    // The first of equally frequent values wins, as the order of the files.
    let mut best: Option<(T, usize)> = None;
    for (v, count) in seen {
        if best.is_none_or(|(_, c)| count > c) {
            best = Some((v, count));
        }
    }
    best.map(|(v, _)| v)
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
    [
        sign * n[0] / length,
        sign * n[1] / length,
        sign * n[2] / length,
    ]
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
    placed.dedup_by(|later, earlier| {
        (later.along_normal.0 - earlier.along_normal.0).abs() < SAME_POSITION_MM
    });
    if placed.len() < before {
        warnings.push(SeriesWarning::DuplicatePositions {
            count: before - placed.len(),
        });
    }
    let steps: Vec<f64> = placed
        .windows(2)
        .map(|w| w[1].along_normal.0 - w[0].along_normal.0)
        .collect();
    let Some(usual) = median(&steps) else {
        return (placed, None);
    };
    // Gaps are measured against the smallest step: with few slices the median itself
    // can straddle a gap (steps 2.5 and 5 mm have a median of 3.75 mm).
    // A pair of nearly coincident slices (just above the duplicate tolerance) must not
    // make every ordinary step look like a gap: below half the median, use the median.
    let shortest = steps.iter().copied().fold(usual, f64::min);
    let shortest = if shortest < usual / 2.0 {
        usual
    } else {
        shortest
    };
    for (i, step) in steps.iter().enumerate() {
        if *step > shortest * GAP_FACTOR {
            warnings.push(SeriesWarning::Gap {
                after_slice: i,
                gap_mm: *step,
                usual_mm: shortest,
            });
        }
    }
    let regular: Vec<f64> = steps
        .iter()
        .copied()
        .filter(|s| *s <= shortest * GAP_FACTOR)
        .collect();
    let (min, max) = regular
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(*s), hi.max(*s))
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dicom::instance::FrameGeometry;

    const AXIAL: [f64; 6] = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    const CORONAL: [f64; 6] = [1.0, 0.0, 0.0, 0.0, 0.0, -1.0];
    const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";

    /// A 4×4 original axial CT slice at height `z` of series `series_uid`.
    fn ct(series_uid: &str, z: f64) -> Instance {
        Instance {
            sop_class: CT_IMAGE_STORAGE.into(),
            study_uid: "1.2.3".into(),
            series_uid: series_uid.into(),
            modality: "CT".into(),
            image_type: vec!["ORIGINAL".into(), "PRIMARY".into(), "AXIAL".into()],
            rows: 4,
            columns: 4,
            frames: 1,
            samples_per_pixel: 1,
            bits_allocated: 16,
            bits_stored: 12,
            pixel_spacing: Some([0.8, 0.8]),
            slice_thickness: Some(2.5),
            frame_geometry: vec![FrameGeometry {
                position: Some([-100.0, -120.0, z]),
                orientation: Some(AXIAL),
                pixel_spacing: Some([0.8, 0.8]),
                slice_thickness: Some(2.5),
                rescale: None,
            }],
            has_pixel_data: true,
            ..Default::default()
        }
    }

    fn stack(series_uid: &str, zs: &[f64]) -> Vec<Instance> {
        zs.iter().map(|&z| ct(series_uid, z)).collect()
    }

    fn only(instances: &[Instance]) -> Series {
        let studies = build(instances);
        assert_eq!(studies.len(), 1);
        assert_eq!(studies[0].series.len(), 1);
        studies[0].series[0].clone()
    }

    fn files(series: &Series) -> Vec<usize> {
        series.slices.iter().map(|s| s.file).collect()
    }

    #[test]
    fn files_without_a_study_uid_are_not_merged_across_patients_or_dates() {
        let mut instances = stack("a", &[0.0, 2.5]);
        instances.extend(stack("b", &[0.0, 2.5]));
        instances.extend(stack("c", &[0.0, 2.5]));
        for (k, inst) in instances.iter_mut().enumerate() {
            inst.study_uid.clear();
            inst.patient_id = Some(if k < 4 { "P1" } else { "P2" }.into());
            inst.acquisition.study_date = Some(if k < 2 { "20240101" } else { "20250101" }.into());
        }
        let studies = build(&instances);
        assert_eq!(studies.len(), 3, "one study per patient and date");
        assert!(studies
            .iter()
            .all(|s| s.study_uid.is_empty() && s.series.len() == 1));
        // Without a patient or a date to tell them apart, they stay one study.
        for inst in &mut instances {
            inst.patient_id = None;
            inst.acquisition.study_date = None;
        }
        assert_eq!(build(&instances).len(), 1);
    }

    #[test]
    fn regular_stack_is_sorted_by_position_without_warnings() {
        let instances = stack("s", &[5.0, 0.0, 10.0, 2.5, 7.5]);
        let s = only(&instances);
        assert_eq!(s.kind, SeriesKind::CtAxial);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        assert_eq!(files(&s), vec![1, 3, 0, 4, 2]);
        let g = s.geometry.unwrap();
        assert_eq!(g.slice_spacing, Some(2.5));
        assert_eq!(g.pixel_spacing, Some([0.8, 0.8]));
        assert_eq!(g.normal, [0.0, 0.0, 1.0]);
        assert_eq!((s.rows, s.columns), (4, 4));
    }

    #[test]
    fn uneven_spacing_is_reported() {
        let s = only(&stack("s", &[0.0, 2.5, 5.0, 7.7, 10.0]));
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        match s.warnings[0] {
            SeriesWarning::UnevenSpacing { min_mm, max_mm } => {
                assert!(
                    (min_mm - 2.3).abs() < 1e-9 && (max_mm - 2.7).abs() < 1e-9,
                    "{min_mm} {max_mm}"
                );
            }
            ref other => panic!("expected uneven spacing, got {other:?}"),
        }
    }

    #[test]
    fn gap_is_not_also_uneven_spacing() {
        let s = only(&stack("s", &[0.0, 2.5, 5.0, 10.0, 12.5]));
        assert_eq!(
            s.warnings,
            vec![SeriesWarning::Gap {
                after_slice: 2,
                gap_mm: 5.0,
                usual_mm: 2.5
            }]
        );
    }

    #[test]
    fn slices_without_position_are_set_aside() {
        let mut instances = stack("s", &[7.5, 0.0, 2.5, 5.0]);
        instances[0].frame_geometry[0].position = None;
        let s = only(&instances);
        assert_eq!(
            s.warnings,
            vec![SeriesWarning::MissingPositions { count: 1 }]
        );
        assert_eq!(files(&s), vec![1, 2, 3]);
    }

    #[test]
    fn missing_orientation_assumes_axial() {
        let mut instances = stack("s", &[0.0, 2.5, 5.0]);
        for inst in &mut instances {
            inst.frame_geometry[0].orientation = None;
        }
        let s = only(&instances);
        assert_eq!(s.kind, SeriesKind::CtAxial);
        assert_eq!(s.warnings, vec![SeriesWarning::NoOrientation]);
        assert_eq!(s.geometry.unwrap().orientation, AXIAL);
    }

    #[test]
    fn missing_pixel_spacing_is_reported() {
        let mut instances = stack("s", &[0.0, 2.5, 5.0]);
        for inst in &mut instances {
            inst.pixel_spacing = None;
        }
        let s = only(&instances);
        assert_eq!(s.warnings, vec![SeriesWarning::NoPixelSpacing]);
        assert_eq!(s.geometry.unwrap().pixel_spacing, None);
    }

    #[test]
    fn other_orientation_is_set_aside() {
        let mut instances = stack("s", &[0.0, 2.5, 5.0, 7.5]);
        instances[3].frame_geometry[0].orientation = Some(CORONAL);
        let s = only(&instances);
        assert_eq!(
            s.warnings,
            vec![SeriesWarning::MixedOrientations { count: 1 }]
        );
        assert_eq!(files(&s), vec![0, 1, 2]);
    }

    #[test]
    fn multi_frame_instance_gives_one_slice_per_frame() {
        let mut inst = ct("s", 0.0);
        inst.frames = 3;
        inst.frame_geometry = [4.0, 0.0, 2.0]
            .iter()
            .map(|&z| FrameGeometry {
                position: Some([0.0, 0.0, z]),
                orientation: Some(AXIAL),
                ..Default::default()
            })
            .collect();
        let s = only(&[inst]);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        let frames: Vec<u32> = s.slices.iter().map(|slice| slice.frame).collect();
        assert_eq!(frames, vec![1, 2, 0]);
        assert_eq!(s.geometry.unwrap().slice_spacing, Some(2.0));
    }

    #[test]
    fn single_slice_spacing_falls_back_to_thickness() {
        let s = only(&stack("s", &[0.0]));
        assert!(s.warnings.is_empty());
        assert_eq!(s.geometry.unwrap().slice_spacing, Some(2.5));
    }

    #[test]
    fn studies_and_series_keep_first_met_order() {
        let mut instances = vec![ct("b", 0.0), ct("a", 0.0), ct("b", 2.5)];
        let mut other_study = ct("c", 0.0);
        other_study.study_uid = "9.9".into();
        instances.insert(1, other_study);
        let studies = build(&instances);
        type SeriesFiles = Vec<(String, Vec<usize>)>;
        let shape: Vec<(String, SeriesFiles)> = studies
            .iter()
            .map(|st| {
                let series = st
                    .series
                    .iter()
                    .map(|s| (s.series_uid.clone(), s.files.clone()))
                    .collect();
                (st.study_uid.clone(), series)
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (
                    "1.2.3".into(),
                    vec![("b".into(), vec![0, 3]), ("a".into(), vec![2])]
                ),
                ("9.9".into(), vec![("c".into(), vec![1])]),
            ]
        );
    }

    #[test]
    fn series_kinds() {
        let mut localizer = ct("scout", 0.0);
        localizer.image_type.push("LOCALIZER".into());
        let mut report = ct("report", 0.0);
        report.has_pixel_data = false;
        report.sop_class = "1.2.840.10008.5.1.4.1.1.88.22".into();
        let mut capture = ct("capture", 0.0);
        capture.sop_class = "1.2.840.10008.5.1.4.1.1.7".into();
        let mut mr = ct("mr", 0.0);
        mr.modality = "MR".into();
        let mut coronal = ct("coronal", 0.0);
        coronal.frame_geometry[0].orientation = Some(CORONAL);
        let instances = vec![localizer, report, capture, mr, coronal];
        let studies = build(&instances);
        let kinds: Vec<SeriesKind> = studies[0].series.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            vec![
                SeriesKind::Localizer,
                SeriesKind::NoImage,
                SeriesKind::SecondaryCapture,
                SeriesKind::OtherModality,
                SeriesKind::CtOtherPlane,
            ]
        );
        assert!(
            studies[0].series[0].slices.is_empty(),
            "a localizer series has no stack"
        );
        // Only the reformat is CT: it is chosen for lack of an axial stack.
        assert_eq!(choose_ct(&studies, &instances), Some((0, 4)));
    }

    #[test]
    fn choice_prefers_axial_then_original_then_more_slices() {
        let mut instances = stack("derived", &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        for inst in &mut instances {
            inst.image_type = vec!["DERIVED".into(), "PRIMARY".into(), "AXIAL".into()];
        }
        instances.extend(stack("original-short", &[0.0, 5.0]));
        instances.extend(stack("original-long", &[0.0, 5.0, 10.0]));
        let mut reformat = stack("coronal", &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        for inst in &mut reformat {
            inst.frame_geometry[0].orientation = Some(CORONAL);
        }
        instances.extend(reformat);
        let studies = build(&instances);
        let chosen = choose_ct(&studies, &instances)
            .map(|(st, se)| studies[st].series[se].series_uid.clone());
        assert_eq!(chosen.as_deref(), Some("original-long"));
        assert_eq!(choose_ct(&[], &[]), None);
    }

    #[test]
    fn normal_points_to_the_head() {
        assert_eq!(oriented_normal(&AXIAL), [0.0, 0.0, 1.0]);
        // Row × column points to the feet here; it is turned round.
        assert_eq!(
            oriented_normal(&[1.0, 0.0, 0.0, 0.0, -1.0, 0.0]),
            [0.0, 0.0, 1.0]
        );
        // Coronal: no head–foot component, kept as is.
        assert_eq!(oriented_normal(&CORONAL), [0.0, 1.0, 0.0]);
        // Degenerate cosines fall back to axial.
        assert_eq!(oriented_normal(&[0.0; 6]), [0.0, 0.0, 1.0]);
    }

    #[test]
    fn median_and_most_common() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(most_common::<u8>(&[]), None);
        assert_eq!(most_common(&[1, 2, 2, 3, 2, 1]), Some(2));
    }

    #[test]
    fn files_without_series_uid_are_kept_apart_by_what_distinguishes_them() {
        let mut instances = stack("", &[0.0, 2.5, 5.0]);
        for (i, inst) in instances.iter_mut().enumerate() {
            inst.series_number = Some(if i == 1 { 7 } else { 3 });
        }
        let studies = build(&instances);
        assert_eq!(studies[0].series.len(), 2);
        for series in &studies[0].series {
            assert!(series.warnings.contains(&SeriesWarning::NoSeriesUid));
        }
    }

    #[test]
    fn colour_images_in_a_ct_series_are_set_aside() {
        let mut instances = stack("2.1", &[0.0, 2.5, 5.0]);
        instances[1].samples_per_pixel = 3;
        let s = only(&instances);
        assert_eq!(s.slices.len(), 2);
        assert!(s
            .warnings
            .contains(&SeriesWarning::ColourImages { count: 1 }));
    }

    #[test]
    fn a_near_duplicate_pair_does_not_turn_every_step_into_a_gap() {
        let s = only(&stack("2.1", &[0.0, 2.5, 2.515, 5.0, 7.5, 10.0]));
        let gaps = s
            .warnings
            .iter()
            .filter(|w| matches!(w, SeriesWarning::Gap { .. }))
            .count();
        assert_eq!(gaps, 0, "{:?}", s.warnings);
    }
}
