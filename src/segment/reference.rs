//! The real reference labels in `../shared/data/ct/totalseg-example`: a CT series (3 mm,
//! pelvis to T12) with muscle and fat labels on 30 slices from T11 to L2 and, for L3,
//! labels of the back muscles only. They were made by TotalSegmentator, not by hand: a
//! strong reference, not truth.
//!
//! Its "total" label map names organs, bones, vessels and four trunk muscles (autochthon
//! and iliopsoas, both sides) on every slice, so the slices without tissue labels still
//! teach with partial labels: those muscles are muscle, every organ, bone and vessel is
//! "not muscle or fat", air is background, and the rest carries no label
//! ([`super::dataset::IGNORE`]) and does not count in the loss.
//!
//! The split is fixed here so that nothing evaluated is ever trained on (neighbouring 3 mm
//! slices look alike, so a gap of unused slices lies between any two sets):
//! - slices 100–111 (T12 to T11) train with full tissue labels;
//! - slices 82–96 (L2 to L1) are held out: tissue figures;
//! - slices 40–70 (L5 to the lower half of L3) train with partial labels;
//! - slices 74–79 (the upper half of L3) are held out: back-muscle figures;
//! - 71–73, 80–81 and 97–99 are gaps, never used.
//!
//! All of it is one patient: held-out slices test generalisation along the body, not to
//! other people.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::dataset::{class_from_reference, LabelledSlice, IGNORE};
use super::TissueClass;
use crate::dicom::DicomError;
use crate::ingest::folder::{self, FolderError};
use crate::nifti::{self, AxialStack, NiftiError};
use crate::units::{Millimetres, SliceIndex};
use crate::volume::Volume;

/// Why the reference could not be loaded; each keeps the error under it.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("the reference series could not be loaded")]
    Series(#[from] FolderError),
    #[error("{} could not be decoded", .0.display())]
    Damaged(PathBuf, #[source] DicomError),
    #[error("cannot read {}", .0.display())]
    Unreadable(PathBuf, #[source] std::io::Error),
    #[error("{} could not be read as labels", .0.display())]
    Labels(PathBuf, #[source] NiftiError),
    #[error("labels of {label_columns}×{label_rows} do not fit images of {columns}×{rows}")]
    Grid {
        label_columns: usize,
        label_rows: usize,
        columns: usize,
        rows: usize,
    },
    #[error("labels.json is missing or unreadable")]
    LabelsJson,
    #[error("labels.json names no L3 slices")]
    NoL3,
    #[error("the reference labels do not line up with the series")]
    Misaligned,
    #[error("slice {0} is out of range or has no pixel spacing")]
    Slice(usize),
}

pub const TRAIN_SLICES: std::ops::RangeInclusive<usize> = 100..=111;
pub const HELD_OUT_SLICES: std::ops::RangeInclusive<usize> = 82..=96;
pub const PARTIAL_TRAIN_SLICES: std::ops::RangeInclusive<usize> = 40..=70;
pub const HELD_OUT_L3_SLICES: std::ops::RangeInclusive<usize> = 74..=79;

/// Labels of the back muscles in the TotalSegmentator "total" map (v2 numbering):
/// autochthon left and right, iliopsoas left and right.
const BACK_MUSCLE_LABELS: [f32; 4] = [86.0, 87.0, 88.0, 89.0];
/// Gluteus maximus, medius and minimus, both sides: muscle too, below L5.
const GLUTEAL_LABELS: std::ops::RangeInclusive<u8> = 80..=85;
/// Every label of the "total" map at or above this one that is not a muscle is an organ,
/// bone, vessel or the spinal cord (1–79 and 90–117 in v2 numbering).
const FIRST_LABEL: u8 = 1;
/// Below this, a pixel is air or gas, whatever the labels say.
const AIR_HU: f64 = -500.0;

#[derive(Debug, Clone)]
pub struct Reference {
    /// Muscle / SAT / VAT (trunk fat) labels as network classes, per series slice.
    pub tissue: Vec<(SliceIndex, LabelledSlice)>,
    /// Held-out L3 slices with label 1 on the back muscles (autochthon, iliopsoas), 0
    /// elsewhere.
    pub l3_back_muscles: Vec<(SliceIndex, LabelledSlice)>,
    /// Partial labels as network classes (muscle, IMAT where muscle holds fat, background
    /// for organs, bone, vessels and air), [`super::dataset::IGNORE`] elsewhere.
    pub partial: Vec<(SliceIndex, LabelledSlice)>,
    /// What the "total" map names under each pixel of the held-out tissue slices: where
    /// a model's muscle errors fall.
    pub structures: BTreeMap<SliceIndex, Vec<Structure>>,
}

/// What the "total" map names under a pixel, in the groups a reader would name when
/// asked where a muscle mask went wrong. The labels are TotalSegmentator v2's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Structure {
    /// Nothing: fat, the abdominal wall's muscles, bowel the model did not name, air.
    Unlabelled,
    /// Autochthon and iliopsoas (86–89), gluteal muscles (80–85).
    NamedMuscle,
    Kidney,
    Liver,
    Spleen,
    /// Stomach, small bowel, duodenum, colon.
    Bowel,
    /// Aorta, venae cavae, portal, splenic and iliac vessels.
    Vessel,
    /// Vertebrae, sacrum, hips, ribs, sternum.
    Bone,
    CostalCartilage,
    OtherOrgan,
}

impl Structure {
    pub fn of(label: f32) -> Structure {
        match label.round().clamp(0.0, 255.0) as u8 {
            0 => Structure::Unlabelled,
            80..=89 => Structure::NamedMuscle,
            2 | 3 | 23 | 24 => Structure::Kidney,
            5 => Structure::Liver,
            1 => Structure::Spleen,
            6 | 18..=20 => Structure::Bowel,
            52..=68 => Structure::Vessel,
            25..=50 | 77 | 78 | 92..=116 => Structure::Bone,
            117 => Structure::CostalCartilage,
            _ => Structure::OtherOrgan,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Structure::Unlabelled => "unlabelled",
            Structure::NamedMuscle => "named_muscle",
            Structure::Kidney => "kidney",
            Structure::Liver => "liver",
            Structure::Spleen => "spleen",
            Structure::Bowel => "bowel",
            Structure::Vessel => "vessel",
            Structure::Bone => "bone",
            Structure::CostalCartilage => "costal_cartilage",
            Structure::OtherOrgan => "other_organ",
        }
    }
}

impl Reference {
    /// Every slice training may use: full labels, then partial ones.
    pub fn train(&self) -> Vec<LabelledSlice> {
        let mut slices = self.pick(|k| TRAIN_SLICES.contains(&k));
        slices.extend(self.partial.iter().map(|(_, s)| s.clone()));
        slices
    }

    /// The held-out slices with what the "total" map names under their pixels.
    pub fn held_out(&self) -> Vec<(LabelledSlice, Option<&[Structure]>)> {
        self.tissue
            .iter()
            .filter(|(k, _)| HELD_OUT_SLICES.contains(&k.0))
            .map(|(k, s)| (s.clone(), self.structures.get(k).map(Vec::as_slice)))
            .collect()
    }

    fn pick(&self, keep: impl Fn(usize) -> bool) -> Vec<LabelledSlice> {
        self.tissue
            .iter()
            .filter(|(k, _)| keep(k.0))
            .map(|(_, s)| s.clone())
            .collect()
    }
}

/// Loads the example from its folder (`series-dicom/`, `tissue-T11-L2/`,
/// `total-labels.nii.gz`, `labels.json`). The images come through the same DICOM path
/// as any user's; only the labels are read from NIfTI.
pub fn load(dir: &Path) -> Result<Reference, ReferenceError> {
    let loaded = folder::load_ct(&dir.join("series-dicom"))?;
    let volume = loaded.volume;
    if let Some((path, error)) = loaded.failures.into_iter().next() {
        return Err(ReferenceError::Damaged(path, error));
    }
    let read = |name: &str| -> Result<AxialStack, ReferenceError> {
        let path = dir.join(name);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => return Err(ReferenceError::Unreadable(path, e)),
        };
        nifti::read(&bytes).map_err(|e| ReferenceError::Labels(path, e))
    };
    let muscle = read("tissue-T11-L2/skeletal_muscle.nii.gz")?;
    let sat = read("tissue-T11-L2/subcutaneous_fat.nii.gz")?;
    let torso = read("tissue-T11-L2/torso_fat.nii.gz")?;
    let total = read("total-labels.nii.gz")?;
    let h = &volume.header;
    for stack in [&muscle, &sat, &torso, &total] {
        if (stack.columns, stack.rows) != (h.columns, h.rows) {
            return Err(ReferenceError::Grid {
                label_columns: stack.columns,
                label_rows: stack.rows,
                columns: h.columns,
                rows: h.rows,
            });
        }
    }
    let labels_json: serde_json::Value = std::fs::read(dir.join("labels.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(ReferenceError::LabelsJson)?;
    let l3 = &labels_json["vertebrae"]["L3"];
    let (first, last) = match (l3["slice_first"].as_u64(), l3["slice_last"].as_u64()) {
        (Some(a), Some(b)) => (a as usize, b as usize),
        _ => return Err(ReferenceError::NoL3),
    };
    let total_at = |k: usize| {
        let z = volume.header.slice_positions_mm[k];
        total.slice_at(z).and_then(|s| total.slice(s))
    };
    let mut tissue = Vec::new();
    let mut structures = BTreeMap::new();
    for k in 0..volume.header.slices {
        let z = volume.header.slice_positions_mm[k];
        let Some(s) = muscle.slice_at(z) else {
            continue;
        };
        let (m, f, t) = (muscle.slice(s), sat.slice(s), torso.slice(s));
        let (Some(m), Some(f), Some(t)) = (m, f, t) else {
            continue;
        };
        let labelled = labelled(&volume, k, |i, hu| {
            class_from_reference(m[i] > 0.5, f[i] > 0.5, t[i] > 0.5, hu).label()
        })?;
        tissue.push((SliceIndex(k), labelled));
        if let Some(labels) = total_at(k).filter(|_| HELD_OUT_SLICES.contains(&k)) {
            structures.insert(
                SliceIndex(k),
                labels.iter().map(|&l| Structure::of(l)).collect(),
            );
        }
    }
    let last_slice = volume.header.slices.saturating_sub(1);
    let mut l3_back_muscles = Vec::new();
    for k in
        first.max(*HELD_OUT_L3_SLICES.start())..=last.min(*HELD_OUT_L3_SLICES.end()).min(last_slice)
    {
        let Some(labels) = total_at(k) else {
            continue;
        };
        let labelled = labelled(&volume, k, |i, _| {
            u8::from(BACK_MUSCLE_LABELS.contains(&labels[i].round()))
        })?;
        l3_back_muscles.push((SliceIndex(k), labelled));
    }
    let mut partial = Vec::new();
    for k in PARTIAL_TRAIN_SLICES.filter(|&k| k <= last_slice) {
        let Some(labels) = total_at(k) else {
            continue;
        };
        let labelled = labelled(&volume, k, |i, hu| partial_class(labels[i], hu))?;
        partial.push((SliceIndex(k), labelled));
    }
    if tissue.is_empty() || l3_back_muscles.is_empty() || partial.is_empty() {
        return Err(ReferenceError::Misaligned);
    }
    Ok(Reference {
        tissue,
        l3_back_muscles,
        partial,
        structures,
    })
}

/// The network class a "total" label teaches, or [`IGNORE`] where it teaches nothing.
fn partial_class(label: f32, hu: f64) -> u8 {
    let label = label.round().clamp(0.0, 255.0) as u8;
    let muscle = BACK_MUSCLE_LABELS.contains(&f32::from(label)) || GLUTEAL_LABELS.contains(&label);
    if hu < AIR_HU {
        TissueClass::Background.label()
    } else if muscle {
        class_from_reference(true, false, false, hu).label()
    } else if label >= FIRST_LABEL {
        TissueClass::Background.label()
    } else {
        IGNORE
    }
}

fn labelled(
    volume: &Volume,
    k: usize,
    label: impl Fn(usize, f64) -> u8,
) -> Result<LabelledSlice, ReferenceError> {
    let h = &volume.header;
    let hu = volume.axial(k).ok_or(ReferenceError::Slice(k))?.to_vec();
    let [row, column] = h.geometry.pixel_spacing.ok_or(ReferenceError::Slice(k))?;
    let labels = hu
        .iter()
        .enumerate()
        .map(|(i, &v)| label(i, f64::from(v)))
        .collect();
    Ok(LabelledSlice {
        name: format!("totalseg-example slice {k}"),
        hu,
        labels,
        columns: h.columns,
        rows: h.rows,
        pixel_spacing: [Millimetres(row), Millimetres(column)],
    })
}
