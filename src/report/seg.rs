//! The mask as a DICOM Segmentation object (SEG, PS3.3 A.51): binary, one frame per
//! tissue, so a PACS or a research pipeline (highdicom, pydicom, 3D Slicer) reads the
//! tissues back with the image they belong to.
//!
//! De-identified by default: the SEG then carries no reference to the source study, series
//! or image, and its own UIDs are derived from the mask (2.25 root). With the user's
//! opt-in it references the source image and shares its study and frame of reference.
//! The tissue codes are a local scheme (`99SARCO`, PS3.3 8.2), because SNOMED CT codes
//! for IMAT and VAT were not verified; the category is SNOMED CT 85756007 "Tissue".

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::dicom::series::SeriesGeometry;
use crate::dicom::write::{derived_uid, ds};
use crate::ingest::SeriesFiles;
use crate::segment::{TissueClass, TissueMask};

const SEGMENTATION_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.66.4";
pub const LOCAL_SCHEME: &str = "99SARCO";

/// The source image, referenced only when the user opts in to identifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceImage {
    pub study_uid: String,
    pub series_uid: String,
    pub sop_class_uid: String,
    pub sop_instance_uid: String,
    pub frame_of_reference_uid: Option<String>,
    /// The frame (from 1) when the source is a multi-frame image.
    pub frame: Option<u32>,
}

/// The image volume slice `slice` of `files` came from, with its position
/// (ImagePositionPatient), as the SEG references and places it.
fn source_of(files: &SeriesFiles, slice: usize) -> Option<(SourceImage, Option<[f64; 3]>)> {
    let (inst, frame, position) = files.slice_source(slice)?;
    Some((
        SourceImage {
            study_uid: inst.study_uid.clone(),
            series_uid: inst.series_uid.clone(),
            sop_class_uid: inst.sop_class.clone(),
            sop_instance_uid: inst.sop_instance_uid.clone(),
            frame_of_reference_uid: inst.frame_of_reference_uid.clone(),
            frame: (inst.frames > 1).then_some(frame + 1),
        },
        position,
    ))
}

/// Where the slice lies and who made the mask.
#[derive(Debug, Clone, PartialEq)]
pub struct SegContext {
    /// Row, column spacing (mm).
    pub pixel_spacing: [f64; 2],
    pub slice_thickness: Option<f64>,
    /// ImagePositionPatient of the slice.
    pub position: Option<[f64; 3]>,
    pub orientation: [f64; 6],
    pub source: Option<SourceImage>,
    /// Model name and version.
    pub model: String,
    /// Hand corrections make the segments semi-automatic.
    pub edited: bool,
    /// YYYYMMDD and HHMMSS of the export.
    pub date: String,
    pub time: String,
}

impl SegContext {
    /// The context of a mask of slice `slice` of `files`' series (with the `geometry`
    /// its volume was built with): its source image (referenced only when `identified`),
    /// the model, whether a person corrected it and when it is exported.
    pub fn of_series_slice(
        files: &SeriesFiles,
        geometry: &SeriesGeometry,
        slice: usize,
        identified: bool,
        model: String,
        edited: bool,
        unix_seconds: i64,
    ) -> Result<SegContext, SegError> {
        let (source, position) = source_of(files, slice).ok_or(SegError::NoSource(slice))?;
        let (date, time) = date_time(unix_seconds);
        Ok(SegContext {
            pixel_spacing: geometry.pixel_spacing.ok_or(SegError::NoSpacing)?,
            slice_thickness: geometry.slice_thickness,
            position,
            orientation: geometry.orientation,
            source: identified.then_some(source),
            model,
            edited,
            date,
            time,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum SegError {
    #[error("a mask of {columns}×{rows} pixels cannot be written (1 to 65535 each)")]
    Size { columns: usize, rows: usize },
    #[error("the segmentation could not be encoded: {0}")]
    Encode(String),
    #[error("slice {0} has no source image to reference")]
    NoSource(usize),
    #[error("the series' pixel spacing is not known")]
    NoSpacing,
}

/// DICOM DA and TM (UTC) for a Unix time, as the SEG's content date and time.
pub fn date_time(unix_seconds: i64) -> (String, String) {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}{month:02}{day:02}"),
        format!("{:02}{:02}{:02}", secs / 3600, secs % 3600 / 60, secs % 60),
    )
}

fn text(obj: &mut InMemDicomObject, tag: Tag, vr: VR, value: &str) {
    obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
}

fn us(obj: &mut InMemDicomObject, tag: Tag, value: u16) {
    obj.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
}

fn sequence(obj: &mut InMemDicomObject, tag: Tag, items: Vec<InMemDicomObject>) {
    obj.put(DataElement::new(tag, VR::SQ, DataSetSequence::from(items)));
}

fn code(value: &str, scheme: &str, meaning: &str) -> InMemDicomObject {
    let mut item = InMemDicomObject::new_empty();
    text(&mut item, tags::CODE_VALUE, VR::SH, value);
    text(&mut item, tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme);
    text(&mut item, tags::CODE_MEANING, VR::LO, meaning);
    item
}

pub(crate) fn type_code(t: TissueClass) -> &'static str {
    match t {
        TissueClass::SkeletalMuscle => "MUSCLE",
        TissueClass::Imat => "IMAT",
        TissueClass::Vat => "VAT",
        TissueClass::Sat => "SAT",
        TissueClass::Background => "BACKGROUND",
    }
}

/// One frame per tissue, bits packed little-endian within each byte, frames packed
/// back to back (PS3.5 8.1.1 for BitsAllocated 1), padded to an even length.
fn pack(mask: &TissueMask) -> Vec<u8> {
    let frame = mask.labels().len();
    let total = frame * TissueClass::TISSUES.len();
    let mut bytes = vec![0u8; total.div_ceil(8).next_multiple_of(2)];
    for (f, tissue) in TissueClass::TISSUES.iter().enumerate() {
        for (i, &label) in mask.labels().iter().enumerate() {
            if label == tissue.label() {
                let bit = f * frame + i;
                bytes[bit / 8] |= 1 << (bit % 8);
            }
        }
    }
    bytes
}

/// The SEG file's bytes.
pub fn write(mask: &TissueMask, ctx: &SegContext) -> Result<Vec<u8>, SegError> {
    let (columns, rows) = (mask.columns, mask.rows);
    let (Ok(c16), Ok(r16)) = (u16::try_from(columns), u16::try_from(rows)) else {
        return Err(SegError::Size { columns, rows });
    };
    if columns == 0 || rows == 0 {
        return Err(SegError::Size { columns, rows });
    }
    // UIDs derived from the mask and the export time: the same export gives the same
    // UIDs, a different mask or a later export new ones.
    let mut hash = Sha256::new();
    hash.update(mask.labels());
    hash.update(ctx.date.as_bytes());
    hash.update(ctx.time.as_bytes());
    let digest = hash.finalize();
    let seed = u64::from_le_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ]);
    let instance_uid = derived_uid(seed, "seg-instance", 0);
    let source = ctx.source.as_ref();
    let study_uid = source.map_or_else(
        || derived_uid(seed, "seg-study", 0),
        |s| s.study_uid.clone(),
    );
    let frame_uid = source
        .and_then(|s| s.frame_of_reference_uid.clone())
        .unwrap_or_else(|| derived_uid(seed, "seg-frame-of-reference", 0));

    let mut obj = InMemDicomObject::new_empty();
    let o = &mut obj;
    text(o, tags::SOP_CLASS_UID, VR::UI, SEGMENTATION_STORAGE);
    text(o, tags::SOP_INSTANCE_UID, VR::UI, &instance_uid);
    text(o, tags::STUDY_INSTANCE_UID, VR::UI, &study_uid);
    text(
        o,
        tags::SERIES_INSTANCE_UID,
        VR::UI,
        &derived_uid(seed, "seg-series", 0),
    );
    text(o, tags::FRAME_OF_REFERENCE_UID, VR::UI, &frame_uid);
    text(o, tags::POSITION_REFERENCE_INDICATOR, VR::LO, "");
    // Patient and study: empty (type 2), never copied from the source.
    for (tag, vr) in [
        (tags::PATIENT_NAME, VR::PN),
        (tags::PATIENT_ID, VR::LO),
        (tags::PATIENT_BIRTH_DATE, VR::DA),
        (tags::PATIENT_SEX, VR::CS),
        (tags::STUDY_DATE, VR::DA),
        (tags::STUDY_TIME, VR::TM),
        (tags::REFERRING_PHYSICIAN_NAME, VR::PN),
        (tags::STUDY_ID, VR::SH),
        (tags::ACCESSION_NUMBER, VR::SH),
    ] {
        text(o, tag, vr, "");
    }
    text(o, tags::MODALITY, VR::CS, "SEG");
    text(o, tags::SERIES_NUMBER, VR::IS, "900");
    text(o, tags::SERIES_DESCRIPTION, VR::LO, "Sarcoscope L3 tissues");
    text(o, tags::INSTANCE_NUMBER, VR::IS, "1");
    text(o, tags::CONTENT_LABEL, VR::CS, "L3_TISSUES");
    text(
        o,
        tags::CONTENT_DESCRIPTION,
        VR::LO,
        "Skeletal muscle, IMAT, VAT, SAT at L3",
    );
    text(o, tags::CONTENT_CREATOR_NAME, VR::PN, "");
    text(o, tags::CONTENT_DATE, VR::DA, &ctx.date);
    text(o, tags::CONTENT_TIME, VR::TM, &ctx.time);
    text(o, tags::MANUFACTURER, VR::LO, "Sarcoscope");
    text(o, tags::MANUFACTURER_MODEL_NAME, VR::LO, &ctx.model);
    text(o, tags::DEVICE_SERIAL_NUMBER, VR::LO, "none");
    text(
        o,
        tags::SOFTWARE_VERSIONS,
        VR::LO,
        env!("CARGO_PKG_VERSION"),
    );
    text(o, tags::IMAGE_TYPE, VR::CS, "DERIVED\\PRIMARY");
    text(o, tags::INSTANCE_CREATION_DATE, VR::DA, &ctx.date);
    text(o, tags::INSTANCE_CREATION_TIME, VR::TM, &ctx.time);
    text(o, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
    text(o, tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "00");
    text(o, tags::SEGMENTATION_TYPE, VR::CS, "BINARY");
    text(
        o,
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        &TissueClass::TISSUES.len().to_string(),
    );
    us(o, tags::ROWS, r16);
    us(o, tags::COLUMNS, c16);
    us(o, tags::SAMPLES_PER_PIXEL, 1);
    us(o, tags::BITS_ALLOCATED, 1);
    us(o, tags::BITS_STORED, 1);
    us(o, tags::HIGH_BIT, 0);
    us(o, tags::PIXEL_REPRESENTATION, 0);

    let algorithm = if ctx.edited {
        "SEMIAUTOMATIC"
    } else {
        "AUTOMATIC"
    };
    let segments = TissueClass::TISSUES
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let mut item = InMemDicomObject::new_empty();
            us(&mut item, tags::SEGMENT_NUMBER, (i + 1) as u16);
            text(&mut item, tags::SEGMENT_LABEL, VR::LO, t.name());
            text(&mut item, tags::SEGMENT_ALGORITHM_TYPE, VR::CS, algorithm);
            text(&mut item, tags::SEGMENT_ALGORITHM_NAME, VR::LO, &ctx.model);
            sequence(
                &mut item,
                tags::SEGMENTED_PROPERTY_CATEGORY_CODE_SEQUENCE,
                vec![code("85756007", "SCT", "Tissue")],
            );
            sequence(
                &mut item,
                tags::SEGMENTED_PROPERTY_TYPE_CODE_SEQUENCE,
                vec![code(type_code(t), LOCAL_SCHEME, t.name())],
            );
            item
        })
        .collect();
    sequence(o, tags::SEGMENT_SEQUENCE, segments);

    let dimension_uid = derived_uid(seed, "seg-dimensions", 0);
    let mut organisation = InMemDicomObject::new_empty();
    text(
        &mut organisation,
        tags::DIMENSION_ORGANIZATION_UID,
        VR::UI,
        &dimension_uid,
    );
    sequence(o, tags::DIMENSION_ORGANIZATION_SEQUENCE, vec![organisation]);
    let index = |pointer: Tag, group: Tag, description: &str| {
        let mut item = InMemDicomObject::new_empty();
        text(
            &mut item,
            tags::DIMENSION_ORGANIZATION_UID,
            VR::UI,
            &dimension_uid,
        );
        item.put(DataElement::new(
            tags::DIMENSION_INDEX_POINTER,
            VR::AT,
            PrimitiveValue::Tags(vec![pointer].into()),
        ));
        item.put(DataElement::new(
            tags::FUNCTIONAL_GROUP_POINTER,
            VR::AT,
            PrimitiveValue::Tags(vec![group].into()),
        ));
        text(
            &mut item,
            tags::DIMENSION_DESCRIPTION_LABEL,
            VR::LO,
            description,
        );
        item
    };
    sequence(
        o,
        tags::DIMENSION_INDEX_SEQUENCE,
        vec![
            index(
                tags::REFERENCED_SEGMENT_NUMBER,
                tags::SEGMENT_IDENTIFICATION_SEQUENCE,
                "ReferencedSegmentNumber",
            ),
            index(
                tags::IMAGE_POSITION_PATIENT,
                tags::PLANE_POSITION_SEQUENCE,
                "ImagePositionPatient",
            ),
        ],
    );

    let mut measures = InMemDicomObject::new_empty();
    text(
        &mut measures,
        tags::PIXEL_SPACING,
        VR::DS,
        &ctx.pixel_spacing.map(ds).join("\\"),
    );
    if let Some(t) = ctx.slice_thickness {
        text(&mut measures, tags::SLICE_THICKNESS, VR::DS, &ds(t));
    }
    let mut orientation = InMemDicomObject::new_empty();
    text(
        &mut orientation,
        tags::IMAGE_ORIENTATION_PATIENT,
        VR::DS,
        &ctx.orientation.map(ds).join("\\"),
    );
    let mut shared = InMemDicomObject::new_empty();
    sequence(&mut shared, tags::PIXEL_MEASURES_SEQUENCE, vec![measures]);
    sequence(
        &mut shared,
        tags::PLANE_ORIENTATION_SEQUENCE,
        vec![orientation],
    );
    sequence(o, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, vec![shared]);

    let position = ctx.position.unwrap_or([0.0; 3]);
    let frames = (1..=TissueClass::TISSUES.len() as u32)
        .map(|segment| {
            let mut frame = InMemDicomObject::new_empty();
            let mut content = InMemDicomObject::new_empty();
            content.put(DataElement::new(
                tags::DIMENSION_INDEX_VALUES,
                VR::UL,
                PrimitiveValue::U32(vec![segment, 1].into()),
            ));
            sequence(&mut frame, tags::FRAME_CONTENT_SEQUENCE, vec![content]);
            let mut plane = InMemDicomObject::new_empty();
            text(
                &mut plane,
                tags::IMAGE_POSITION_PATIENT,
                VR::DS,
                &position.map(ds).join("\\"),
            );
            sequence(&mut frame, tags::PLANE_POSITION_SEQUENCE, vec![plane]);
            let mut id = InMemDicomObject::new_empty();
            us(&mut id, tags::REFERENCED_SEGMENT_NUMBER, segment as u16);
            sequence(&mut frame, tags::SEGMENT_IDENTIFICATION_SEQUENCE, vec![id]);
            if let Some(s) = source {
                let mut image = InMemDicomObject::new_empty();
                text(
                    &mut image,
                    tags::REFERENCED_SOP_CLASS_UID,
                    VR::UI,
                    &s.sop_class_uid,
                );
                text(
                    &mut image,
                    tags::REFERENCED_SOP_INSTANCE_UID,
                    VR::UI,
                    &s.sop_instance_uid,
                );
                if let Some(frame) = s.frame {
                    text(
                        &mut image,
                        tags::REFERENCED_FRAME_NUMBER,
                        VR::IS,
                        &frame.to_string(),
                    );
                }
                let purpose = code(
                    "121322",
                    "DCM",
                    "Source image for image processing operation",
                );
                sequence(
                    &mut image,
                    tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE,
                    vec![purpose],
                );
                let mut derivation = InMemDicomObject::new_empty();
                sequence(&mut derivation, tags::SOURCE_IMAGE_SEQUENCE, vec![image]);
                sequence(
                    &mut derivation,
                    tags::DERIVATION_CODE_SEQUENCE,
                    vec![code("113076", "DCM", "Segmentation")],
                );
                sequence(
                    &mut frame,
                    tags::DERIVATION_IMAGE_SEQUENCE,
                    vec![derivation],
                );
            }
            frame
        })
        .collect();
    sequence(o, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, frames);

    if let Some(s) = source {
        let mut instance = InMemDicomObject::new_empty();
        text(
            &mut instance,
            tags::REFERENCED_SOP_CLASS_UID,
            VR::UI,
            &s.sop_class_uid,
        );
        text(
            &mut instance,
            tags::REFERENCED_SOP_INSTANCE_UID,
            VR::UI,
            &s.sop_instance_uid,
        );
        let mut series = InMemDicomObject::new_empty();
        text(
            &mut series,
            tags::SERIES_INSTANCE_UID,
            VR::UI,
            &s.series_uid,
        );
        sequence(
            &mut series,
            tags::REFERENCED_INSTANCE_SEQUENCE,
            vec![instance],
        );
        sequence(o, tags::REFERENCED_SERIES_SEQUENCE, vec![series]);
    }

    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::U8(pack(mask).into()),
    ));
    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
                .media_storage_sop_class_uid(SEGMENTATION_STORAGE)
                .media_storage_sop_instance_uid(&instance_uid),
        )
        .map_err(|e| SegError::Encode(e.to_string()))?;
    let mut bytes = Vec::new();
    file.write_all(&mut bytes)
        .map_err(|e| SegError::Encode(e.to_string()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(date_time(0), ("19700101".into(), "000000".into()));
        // 2026-11-27 01:02:03 UTC.
        assert_eq!(
            date_time(1_795_741_323),
            ("20261127".into(), "010203".into())
        );
        assert_eq!(date_time(951_782_400), ("20000229".into(), "000000".into()));
    }

    #[test]
    fn bits_are_packed_per_tissue_frame() {
        // 3×3: muscle at 0, IMAT at 4, SAT at 8.
        let mut labels = vec![0u8; 9];
        labels[0] = 1;
        labels[4] = 2;
        labels[8] = 4;
        let mask = TissueMask::from_labels(3, 3, labels).unwrap();
        let bytes = pack(&mask);
        // 36 bits → 5 bytes → padded to 6.
        assert_eq!(bytes.len(), 6);
        let bit = |i: usize| bytes[i / 8] >> (i % 8) & 1;
        assert_eq!(bit(0), 1); // frame 1 (muscle), pixel 0
        assert_eq!(bit(9 + 4), 1); // frame 2 (IMAT), pixel 4
        assert_eq!(bit(27 + 8), 1); // frame 4 (SAT), pixel 8
        assert_eq!((0..36).map(bit).sum::<u8>(), 3);
    }
}
