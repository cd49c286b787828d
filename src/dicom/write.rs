//! Writing a CT volume as classic single-frame DICOM files, so that data made here (the
//! demo phantom) enters the app through exactly the path real files take.
//!
//! The files are CT Image Storage, explicit VR little endian, 16-bit signed stored
//! values = HU + 1024 with RescaleIntercept −1024 (the most common scanner convention).
//! UIDs are under the 2.25 root (a UUID written as a decimal integer, PS3.5 B.2), made
//! from a seed by hashing, so the same volume gets the same UIDs on every run and
//! different volumes do not collide.

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use sha2::{Digest, Sha256};
use thiserror::Error;

const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
/// Stored value = HU − RESCALE_INTERCEPT.
const RESCALE_INTERCEPT: i32 = -1024;

/// Why a series could not be written.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum WriteError {
    #[error("the volume has {have} voxels where {columns}×{rows}×{slices} = {need} are needed")]
    VolumeSize {
        have: usize,
        need: usize,
        columns: usize,
        rows: usize,
        slices: usize,
    },
    #[error("an image of {columns}×{rows} pixels cannot be written (1 to 65535 each)")]
    ImageSize { columns: usize, rows: usize },
    #[error("there are no slices to write")]
    NoSlices,
    #[error("{value} HU (slice {slice}) cannot be stored as HU + 1024 in 16 signed bits")]
    OutOfRange { slice: usize, value: i16 },
    #[error("slice {slice} could not be written: {detail}")]
    Encode { slice: usize, detail: String },
}

/// Where the slices lie. Slices are axial (ImageOrientationPatient 1\0\0\0\1\0).
#[derive(Debug, Clone, PartialEq)]
pub struct AxialGeometry {
    pub columns: usize,
    pub rows: usize,
    /// Row spacing then column spacing (mm), as DICOM PixelSpacing.
    pub pixel_spacing: [f64; 2],
    pub slice_thickness: f64,
    /// ImagePositionPatient (centre of the first pixel, mm, LPS) of each slice, in the
    /// order the slices are stored in the volume.
    pub positions: Vec<[f64; 3]>,
}

/// Header facts of the series, beyond its geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesFacts {
    /// Every UID (study, series, frame of reference, instances) is derived from it.
    pub uid_seed: u64,
    pub series_description: String,
    pub study_description: String,
    pub patient_name: String,
    pub patient_id: String,
    /// "M", "F" or "O".
    pub patient_sex: Option<String>,
    /// DICOM age string, e.g. "058Y".
    pub patient_age: Option<String>,
    pub patient_size_m: Option<f64>,
    pub patient_weight_kg: Option<f64>,
    pub kvp: f64,
    pub manufacturer: String,
    /// ContrastBolusAgent; `None` for a scan without contrast.
    pub contrast_agent: Option<String>,
    pub series_number: u32,
}

/// The demo series' description, by which the page recognises it.
pub const DEMO_DESCRIPTION: &str = "Sarcoscope synthetic demo (not a patient)";

impl SeriesFacts {
    /// The synthetic demo's header: labelled as not a patient wherever a viewer shows
    /// names or descriptions.
    pub fn demo(uid_seed: u64) -> SeriesFacts {
        SeriesFacts {
            uid_seed,
            series_description: DEMO_DESCRIPTION.into(),
            study_description: DEMO_DESCRIPTION.into(),
            patient_name: "DEMO^PHANTOM".into(),
            patient_id: "DEMO".into(),
            patient_sex: None,
            patient_age: None,
            patient_size_m: None,
            patient_weight_kg: None,
            kvp: 120.0,
            manufacturer: "Sarcoscope phantom".into(),
            contrast_agent: None,
            series_number: 1,
        }
    }
}

/// A UID under 2.25 from a seed, a role ("study", "series", …) and an index: a version 8
/// (custom) UUID built from SHA-256, written as a decimal integer.
pub fn derived_uid(seed: u64, role: &str, index: u64) -> String {
    let mut hash = Sha256::new();
    hash.update(b"sarcoscope-uid\0");
    hash.update(seed.to_le_bytes());
    hash.update(role.as_bytes());
    hash.update([0]);
    hash.update(index.to_le_bytes());
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0F) | 0x80; // version 8
    bytes[8] = (bytes[8] & 0x3F) | 0x80; // RFC 9562 variant
    format!("2.25.{}", u128::from_be_bytes(bytes))
}

/// Writes `hu` (slice-major, then row, then column) as one CT Image Storage file per
/// slice, in volume order, with InstanceNumber counting from 1.
pub fn ct_series(
    hu: &[i16],
    geometry: &AxialGeometry,
    facts: &SeriesFacts,
) -> Result<Vec<Vec<u8>>, WriteError> {
    let (columns, rows, slices) = (geometry.columns, geometry.rows, geometry.positions.len());
    if slices == 0 {
        return Err(WriteError::NoSlices);
    }
    let (Ok(columns_us), Ok(rows_us)) = (u16::try_from(columns), u16::try_from(rows)) else {
        return Err(WriteError::ImageSize { columns, rows });
    };
    if columns == 0 || rows == 0 {
        return Err(WriteError::ImageSize { columns, rows });
    }
    let len = columns * rows;
    let need = len * slices;
    if hu.len() != need {
        return Err(WriteError::VolumeSize {
            have: hu.len(),
            need,
            columns,
            rows,
            slices,
        });
    }
    let study_uid = derived_uid(facts.uid_seed, "study", 0);
    let series_uid = derived_uid(facts.uid_seed, "series", 0);
    let frame_uid = derived_uid(facts.uid_seed, "frame-of-reference", 0);
    let mut files = Vec::with_capacity(slices);
    for (slice, position) in geometry.positions.iter().enumerate() {
        let voxels = &hu[slice * len..(slice + 1) * len];
        let mut stored = Vec::with_capacity(len);
        for &value in voxels {
            let s = i32::from(value) - RESCALE_INTERCEPT;
            let s = i16::try_from(s).map_err(|_| WriteError::OutOfRange { slice, value })?;
            // Two's complement bits, as OW carries them.
            stored.push(s as u16);
        }
        let uid = derived_uid(facts.uid_seed, "instance", slice as u64);
        let mut obj = InMemDicomObject::new_empty();
        let mut text = |tag: Tag, vr: VR, value: &str| {
            obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
        };
        text(tags::SOP_CLASS_UID, VR::UI, CT_IMAGE_STORAGE);
        text(tags::SOP_INSTANCE_UID, VR::UI, &uid);
        text(tags::STUDY_INSTANCE_UID, VR::UI, &study_uid);
        text(tags::SERIES_INSTANCE_UID, VR::UI, &series_uid);
        text(tags::FRAME_OF_REFERENCE_UID, VR::UI, &frame_uid);
        text(tags::POSITION_REFERENCE_INDICATOR, VR::LO, "");
        text(tags::STUDY_DATE, VR::DA, "");
        text(tags::STUDY_TIME, VR::TM, "");
        text(tags::ACCESSION_NUMBER, VR::SH, "");
        text(tags::REFERRING_PHYSICIAN_NAME, VR::PN, "");
        text(tags::STUDY_ID, VR::SH, "DEMO");
        text(tags::STUDY_DESCRIPTION, VR::LO, &facts.study_description);
        text(tags::SERIES_DESCRIPTION, VR::LO, &facts.series_description);
        text(
            tags::SERIES_NUMBER,
            VR::IS,
            &facts.series_number.to_string(),
        );
        text(tags::INSTANCE_NUMBER, VR::IS, &(slice + 1).to_string());
        text(tags::ACQUISITION_NUMBER, VR::IS, "1");
        text(tags::MODALITY, VR::CS, "CT");
        text(tags::IMAGE_TYPE, VR::CS, "ORIGINAL\\PRIMARY\\AXIAL");
        text(tags::MANUFACTURER, VR::LO, &facts.manufacturer);
        text(tags::BODY_PART_EXAMINED, VR::CS, "ABDOMEN");
        text(tags::PATIENT_POSITION, VR::CS, "HFS");
        text(tags::KVP, VR::DS, &ds(facts.kvp));
        text(tags::PATIENT_NAME, VR::PN, &facts.patient_name);
        text(tags::PATIENT_ID, VR::LO, &facts.patient_id);
        text(tags::PATIENT_BIRTH_DATE, VR::DA, "");
        text(
            tags::PATIENT_SEX,
            VR::CS,
            facts.patient_sex.as_deref().unwrap_or(""),
        );
        if let Some(age) = &facts.patient_age {
            text(tags::PATIENT_AGE, VR::AS, age);
        }
        if let Some(size) = facts.patient_size_m {
            text(tags::PATIENT_SIZE, VR::DS, &ds(size));
        }
        if let Some(weight) = facts.patient_weight_kg {
            text(tags::PATIENT_WEIGHT, VR::DS, &ds(weight));
        }
        if let Some(agent) = &facts.contrast_agent {
            text(tags::CONTRAST_BOLUS_AGENT, VR::LO, agent);
        }
        text(tags::BURNED_IN_ANNOTATION, VR::CS, "NO");
        text(
            tags::IMAGE_POSITION_PATIENT,
            VR::DS,
            &position.map(ds).join("\\"),
        );
        text(tags::IMAGE_ORIENTATION_PATIENT, VR::DS, "1\\0\\0\\0\\1\\0");
        text(tags::SLICE_LOCATION, VR::DS, &ds(position[2]));
        text(
            tags::PIXEL_SPACING,
            VR::DS,
            &geometry.pixel_spacing.map(ds).join("\\"),
        );
        text(tags::SLICE_THICKNESS, VR::DS, &ds(geometry.slice_thickness));
        text(
            tags::RESCALE_INTERCEPT,
            VR::DS,
            &RESCALE_INTERCEPT.to_string(),
        );
        text(tags::RESCALE_SLOPE, VR::DS, "1");
        text(tags::RESCALE_TYPE, VR::LO, "HU");
        text(tags::WINDOW_CENTER, VR::DS, "40");
        text(tags::WINDOW_WIDTH, VR::DS, "400");
        text(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
        for (tag, value) in [
            (tags::ROWS, rows_us),
            (tags::COLUMNS, columns_us),
            (tags::SAMPLES_PER_PIXEL, 1),
            (tags::BITS_ALLOCATED, 16),
            (tags::BITS_STORED, 16),
            (tags::HIGH_BIT, 15),
            (tags::PIXEL_REPRESENTATION, 1),
        ] {
            obj.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
        }
        obj.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OW,
            PrimitiveValue::U16(stored.into()),
        ));
        let encode = |detail: String| WriteError::Encode { slice, detail };
        let file = obj
            .with_meta(
                FileMetaTableBuilder::new()
                    .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
                    .media_storage_sop_class_uid(CT_IMAGE_STORAGE)
                    .media_storage_sop_instance_uid(&uid),
            )
            .map_err(|e| encode(e.to_string()))?;
        let mut bytes = Vec::new();
        file.write_all(&mut bytes)
            .map_err(|e| encode(e.to_string()))?;
        files.push(bytes);
    }
    Ok(files)
}

/// A decimal string (DS) of at most 16 characters, as short as the value allows.
pub(crate) fn ds(value: f64) -> String {
    if value == value.trunc() && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    for decimals in (0..=6).rev() {
        let text = format!("{value:.decimals$}");
        let text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
        if text.len() <= 16 {
            return text;
        }
    }
    format!("{value:.3e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_are_short_and_exact_enough() {
        assert_eq!(ds(120.0), "120");
        assert_eq!(ds(-171.9), "-171.9");
        assert_eq!(ds(1.8), "1.8");
        assert_eq!(ds(-0.5), "-0.5");
        assert!(ds(-123456.123456789).len() <= 16);
    }

    #[test]
    fn derived_uids_are_valid_and_distinct() {
        let a = derived_uid(7, "series", 0);
        let b = derived_uid(7, "series", 1);
        let c = derived_uid(8, "series", 0);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, derived_uid(7, "series", 0));
        assert!(a.len() <= 64 && a.starts_with("2.25."));
        assert!(a[5..].bytes().all(|b| b.is_ascii_digit()));
        assert!(!a[5..].starts_with('0'));
    }
}
