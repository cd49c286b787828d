//! The header facts of one DICOM file that ingest, series building and the clinical
//! panel need — read once, cheaply, and small enough to send between threads.

use dicom_dictionary_std::tags;
use dicom_object::mem::InMemDicomObject;
use dicom_object::Tag;
use serde::{Deserialize, Serialize};

use super::file::{DicomObject, ParsedFile};
use super::DicomError;
use crate::units::Rescale;

/// The most frames a file may declare (real enhanced CT has a few thousand).
pub const MAX_FRAMES: u32 = 65_536;
/// The most stored values a file may declare: 2 GB of 16-bit samples.
pub const MAX_STORED_VALUES: u64 = 1 << 30;

/// Where one frame sits in patient space (DICOM LPS, millimetres).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameGeometry {
    /// ImagePositionPatient: the centre of the first transmitted pixel.
    pub position: Option<[f64; 3]>,
    /// ImageOrientationPatient: row direction then column direction cosines.
    pub orientation: Option<[f64; 6]>,
    /// Per-frame rescale of enhanced objects, overriding the file's.
    pub rescale: Option<Rescale>,
    pub pixel_spacing: Option<[f64; 2]>,
    pub slice_thickness: Option<f64>,
}

/// Patient facts the clinical panel is prefilled with. Names and identifiers are
/// deliberately not read here: nothing here needs them (the ID is read apart, for the
/// cohort key table only: [`Instance::patient_id`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientFacts {
    /// "M", "F" or "O" as recorded.
    pub sex: Option<String>,
    /// PatientAge as recorded, e.g. "063Y".
    pub age: Option<String>,
    /// PatientSize, metres.
    pub height_m: Option<f64>,
    /// PatientWeight, kilograms.
    pub weight_kg: Option<f64>,
}

impl PatientFacts {
    /// PatientAge (an Age String, `nnnD`, `nnnW`, `nnnM` or `nnnY`) in years.
    pub fn age_years(&self) -> Option<f64> {
        let age = self.age.as_deref()?.trim();
        let unit = age.chars().last()?;
        let number = &age[..age.len() - unit.len_utf8()];
        let n: f64 = number.parse().ok()?;
        let per_year = match unit {
            'Y' => 1.0,
            'M' => 12.0,
            'W' => 52.1775,
            'D' => 365.25,
            _ => return None,
        };
        Some(n / per_year)
    }
}

/// Acquisition facts kept beside every measurement (they change HU and areas).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AcquisitionFacts {
    pub kvp: Option<f64>,
    /// ContrastBolusAgent; empty or absent means none was recorded.
    pub contrast_agent: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub study_date: Option<String>,
}

/// One DICOM file's header, as far as Sarcoscope needs it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Declared transfer syntax UID ("" when the file declares none).
    pub transfer_syntax: String,
    pub sop_class: String,
    pub sop_instance_uid: String,
    pub study_uid: String,
    pub series_uid: String,
    /// FrameOfReferenceUID: a derived object (a DICOM SEG) shares it with its source.
    #[serde(default)]
    pub frame_of_reference_uid: Option<String>,
    pub series_number: Option<i64>,
    pub series_description: String,
    pub study_description: String,
    pub modality: String,
    pub image_type: Vec<String>,
    pub instance_number: Option<i64>,
    pub rows: u32,
    pub columns: u32,
    pub frames: u32,
    pub samples_per_pixel: u16,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub pixel_representation: u16,
    pub photometric: String,
    /// 0: samples interleaved per pixel; 1: one colour plane after another.
    pub planar_configuration: u16,
    pub rescale: Option<Rescale>,
    pub padding_value: Option<i32>,
    pub pixel_spacing: Option<[f64; 2]>,
    pub slice_thickness: Option<f64>,
    /// One entry per frame (a single entry for classic single-frame images).
    pub frame_geometry: Vec<FrameGeometry>,
    pub has_pixel_data: bool,
    pub patient: PatientFacts,
    pub acquisition: AcquisitionFacts,
    /// PatientID, read for one use only: the cohort's key table, which links case codes
    /// to patients in the hospital's hands (kept in the browser, exported only on
    /// request, never in a measurement's export). Names are not read.
    #[serde(default)]
    pub patient_id: Option<String>,
}

impl Instance {
    /// Reads the header facts; `has_pixel_data` must be given because a header-only
    /// read stops before the pixel data element.
    pub fn from_parsed(parsed: &ParsedFile, has_pixel_data: bool) -> Instance {
        let obj = &parsed.obj;
        // A count beyond u32 saturates, so that `check_size` refuses it.
        let frames = int(obj, tags::NUMBER_OF_FRAMES)
            .map(|n| u32::try_from(n.max(1)).unwrap_or(u32::MAX))
            .unwrap_or(1);
        let shared = first_item(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE);
        let per_frame = items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
        let classic = FrameGeometry {
            position: floats::<3>(obj, tags::IMAGE_POSITION_PATIENT),
            orientation: floats::<6>(obj, tags::IMAGE_ORIENTATION_PATIENT),
            rescale: None,
            pixel_spacing: floats::<2>(obj, tags::PIXEL_SPACING),
            slice_thickness: float(obj, tags::SLICE_THICKNESS),
        };
        // One entry per frame that has its own groups (at least one); later frames share
        // the last, so a damaged frame count cannot make this list huge.
        let frame_geometry = if per_frame.is_empty() && shared.is_none() {
            vec![classic.clone()]
        } else {
            (0..per_frame.len().clamp(1, frames as usize))
                .map(|i| functional_geometry(per_frame.get(i), shared, &classic))
                .collect()
        };
        let first = frame_geometry.first().cloned().unwrap_or_default();
        let rescale = match (
            float(obj, tags::RESCALE_SLOPE),
            float(obj, tags::RESCALE_INTERCEPT),
        ) {
            (None, None) => first.rescale,
            (slope, intercept) => Some(Rescale {
                slope: slope.unwrap_or(1.0),
                intercept: intercept.unwrap_or(0.0),
            }),
        };
        Instance {
            transfer_syntax: parsed.declared_syntax.clone().unwrap_or_default(),
            sop_class: text(obj, tags::SOP_CLASS_UID).unwrap_or_default(),
            sop_instance_uid: text(obj, tags::SOP_INSTANCE_UID).unwrap_or_default(),
            study_uid: text(obj, tags::STUDY_INSTANCE_UID).unwrap_or_default(),
            series_uid: text(obj, tags::SERIES_INSTANCE_UID).unwrap_or_default(),
            frame_of_reference_uid: text(obj, tags::FRAME_OF_REFERENCE_UID),
            series_number: int(obj, tags::SERIES_NUMBER),
            series_description: text(obj, tags::SERIES_DESCRIPTION).unwrap_or_default(),
            study_description: text(obj, tags::STUDY_DESCRIPTION).unwrap_or_default(),
            modality: text(obj, tags::MODALITY).unwrap_or_default(),
            image_type: text(obj, tags::IMAGE_TYPE)
                .map(|s| s.split('\\').map(|p| p.trim().to_uppercase()).collect())
                .unwrap_or_default(),
            instance_number: int(obj, tags::INSTANCE_NUMBER),
            // Out-of-range values become 0, which decoding then refuses in words.
            rows: unsigned(obj, tags::ROWS).unwrap_or(0),
            columns: unsigned(obj, tags::COLUMNS).unwrap_or(0),
            frames,
            samples_per_pixel: unsigned(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1),
            bits_allocated: unsigned(obj, tags::BITS_ALLOCATED).unwrap_or(0),
            bits_stored: unsigned(obj, tags::BITS_STORED).unwrap_or(0),
            pixel_representation: unsigned(obj, tags::PIXEL_REPRESENTATION).unwrap_or(0),
            photometric: text(obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_default(),
            planar_configuration: unsigned(obj, tags::PLANAR_CONFIGURATION).unwrap_or(0),
            rescale,
            padding_value: int(obj, tags::PIXEL_PADDING_VALUE).map(|v| v as i32),
            pixel_spacing: first.pixel_spacing,
            slice_thickness: first.slice_thickness,
            frame_geometry,
            has_pixel_data,
            patient: PatientFacts {
                sex: text(obj, tags::PATIENT_SEX).filter(|s| !s.is_empty()),
                age: text(obj, tags::PATIENT_AGE).filter(|s| !s.is_empty()),
                height_m: float(obj, tags::PATIENT_SIZE).filter(|v| *v > 0.0),
                weight_kg: float(obj, tags::PATIENT_WEIGHT).filter(|v| *v > 0.0),
            },
            acquisition: AcquisitionFacts {
                kvp: float(obj, tags::KVP),
                contrast_agent: text(obj, tags::CONTRAST_BOLUS_AGENT).filter(|s| !s.is_empty()),
                manufacturer: text(obj, tags::MANUFACTURER).filter(|s| !s.is_empty()),
                model: text(obj, tags::MANUFACTURER_MODEL_NAME).filter(|s| !s.is_empty()),
                study_date: text(obj, tags::STUDY_DATE).filter(|s| !s.is_empty()),
            },
            patient_id: text(obj, tags::PATIENT_ID).filter(|s| !s.is_empty()),
        }
    }

    /// Refuses a header that declares more stored values than a browser tab could hold
    /// (rows × columns × samples × frames): such headers are almost always damaged, and
    /// believing them would mean allocating gigabytes.
    pub fn check_size(&self) -> Result<(), DicomError> {
        let values = u64::from(self.rows)
            * u64::from(self.columns)
            * u64::from(self.samples_per_pixel.max(1))
            * u64::from(self.frames);
        if self.frames > MAX_FRAMES || values > MAX_STORED_VALUES {
            return Err(DicomError::UnsupportedLayout(format!(
                "the header describes {} frame(s) of {}×{}, more than a browser can hold; the file is probably damaged",
                self.frames, self.columns, self.rows
            )));
        }
        Ok(())
    }

    /// The modality values map of a frame (per-frame rescale wins over the file's).
    pub fn rescale_for(&self, frame: usize) -> Rescale {
        self.frame_geometry
            .get(frame)
            .or(self.frame_geometry.last())
            .and_then(|g| g.rescale)
            .or(self.rescale)
            .unwrap_or_default()
    }

    pub fn is_localizer(&self) -> bool {
        self.image_type.iter().any(|t| t == "LOCALIZER")
    }

    /// Secondary captures, reports and other non-image storage classes are listed but
    /// never chosen as the CT series.
    pub fn is_secondary_or_derived_capture(&self) -> bool {
        self.sop_class.starts_with("1.2.840.10008.5.1.4.1.1.7")
            || self.sop_class.starts_with("1.2.840.10008.5.1.4.1.1.88")
            || self.image_type.first().is_some_and(|t| t == "DERIVED")
                && self.image_type.iter().any(|t| t == "SECONDARY")
    }
}

/// Geometry of frame `i` of an enhanced object: per-frame functional groups first,
/// then shared ones, then the classic top-level attributes.
fn functional_geometry(
    frame: Option<&InMemDicomObject>,
    shared: Option<&InMemDicomObject>,
    classic: &FrameGeometry,
) -> FrameGeometry {
    let pick = |seq: Tag, f: &dyn Fn(&InMemDicomObject) -> Option<FrameGeometry>| {
        frame
            .and_then(|o| nested(o, seq))
            .and_then(f)
            .or_else(|| shared.and_then(|o| nested(o, seq)).and_then(f))
    };
    let position = pick(tags::PLANE_POSITION_SEQUENCE, &|o| {
        Some(FrameGeometry {
            position: floats::<3>(o, tags::IMAGE_POSITION_PATIENT),
            ..Default::default()
        })
    })
    .and_then(|g| g.position);
    let orientation = pick(tags::PLANE_ORIENTATION_SEQUENCE, &|o| {
        Some(FrameGeometry {
            orientation: floats::<6>(o, tags::IMAGE_ORIENTATION_PATIENT),
            ..Default::default()
        })
    })
    .and_then(|g| g.orientation);
    let measures = pick(tags::PIXEL_MEASURES_SEQUENCE, &|o| {
        Some(FrameGeometry {
            pixel_spacing: floats::<2>(o, tags::PIXEL_SPACING),
            slice_thickness: float(o, tags::SLICE_THICKNESS),
            ..Default::default()
        })
    });
    let rescale = pick(tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE, &|o| {
        let slope = float(o, tags::RESCALE_SLOPE)?;
        Some(FrameGeometry {
            rescale: Some(Rescale {
                slope,
                intercept: float(o, tags::RESCALE_INTERCEPT).unwrap_or(0.0),
            }),
            ..Default::default()
        })
    })
    .and_then(|g| g.rescale);
    FrameGeometry {
        position: position.or(classic.position),
        orientation: orientation.or(classic.orientation),
        rescale,
        pixel_spacing: measures
            .as_ref()
            .and_then(|m| m.pixel_spacing)
            .or(classic.pixel_spacing),
        slice_thickness: measures
            .as_ref()
            .and_then(|m| m.slice_thickness)
            .or(classic.slice_thickness),
    }
}

/// The first item of a sequence.
pub(crate) fn nested(obj: &InMemDicomObject, tag: Tag) -> Option<&InMemDicomObject> {
    items(obj, tag).first()
}

/// A sequence's items; none when the element is absent or not a sequence.
pub(crate) fn items(obj: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    obj.element_opt(tag)
        .ok()
        .flatten()
        .and_then(|e| e.items())
        .unwrap_or(&[])
}

fn first_item(obj: &DicomObject, tag: Tag) -> Option<&InMemDicomObject> {
    nested(obj, tag)
}

pub(crate) fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let value = obj.element_opt(tag).ok().flatten()?.to_str().ok()?;
    Some(value.trim_matches(['\0', ' ']).to_owned())
}

fn float(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    let value = obj.element_opt(tag).ok().flatten()?.to_float64().ok()?;
    value.is_finite().then_some(value)
}

fn floats<const N: usize>(obj: &InMemDicomObject, tag: Tag) -> Option<[f64; N]> {
    let values = obj
        .element_opt(tag)
        .ok()
        .flatten()?
        .to_multi_float64()
        .ok()?;
    let array: [f64; N] = values.get(..N)?.try_into().ok()?;
    array.iter().all(|v| v.is_finite()).then_some(array)
}

fn unsigned<T: TryFrom<i64>>(obj: &InMemDicomObject, tag: Tag) -> Option<T> {
    T::try_from(int(obj, tag)?).ok()
}

fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    obj.element_opt(tag).ok().flatten()?.to_int::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::PatientFacts;

    fn age(text: &str) -> Option<f64> {
        PatientFacts {
            age: Some(text.into()),
            ..Default::default()
        }
        .age_years()
    }

    #[test]
    fn age_strings_become_years() {
        assert_eq!(age("058Y"), Some(58.0));
        assert_eq!(age("006M"), Some(0.5));
        assert_eq!(age("X"), None);
        assert_eq!(age(""), None);
        assert_eq!(age("12Q"), None);
        assert_eq!(age("63歳"), None);
    }
}
