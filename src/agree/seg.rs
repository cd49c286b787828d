//! DICOM Segmentation objects (SEG) as readers' masks: what 3D Slicer, OHIF, highdicom or
//! Sarcoscope itself write when a reader traces or corrects L3 tissues.
//!
//! A SEG holds one frame per segment and image plane. Each frame names its segment
//! (Segment Identification), usually the CT image it was drawn on (Derivation Image →
//! Source Image's SOP Instance UID) and where it lies (Plane Position). A BINARY SEG
//! packs one bit per pixel; a FRACTIONAL one stores 0…Maximum Fractional Value per pixel,
//! read here as "in" from half of the maximum (the usual cut for probability and occupancy
//! maps). The segments become tissues through their codes or, failing those, their labels;
//! what cannot be told is asked of the user ([`SegmentNames`]), never guessed.

use std::collections::BTreeMap;

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::mem::InMemDicomObject;
use serde::{Deserialize, Serialize};

use super::reference::{Placement, ReferenceMask};
use crate::dicom::instance::{items, nested, text};
use crate::dicom::{self, pixels, DicomError, Instance};
use crate::segment::{TissueClass, TissueMask};
use crate::units::Millimetres;

const SEGMENTATION_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.66.4";

/// A segment as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub number: u16,
    pub label: String,
    /// The Segmented Property Type code: (scheme, value, meaning).
    pub code: Option<(String, String, String)>,
}

impl Segment {
    /// The tissue the segment's code or label stands for, if either says it plainly.
    ///
    /// Codes: SNOMED CT "Muscle" 91727004 (SRT T-13009, DICOM CID 7166), "Skeletal muscle
    /// structure" 127954009, "Subcutaneous tissue" 71966008 (SRT T-03000, CID 7166), and
    /// Sarcoscope's own local codes (`report::seg::LOCAL_SCHEME`). Names: the words
    /// body-composition protocols use (intermuscular/IMAT, visceral/VAT,
    /// subcutaneous/SAT, muscle/SMA), IMAT tested before muscle because its name holds
    /// the word.
    pub fn known_tissue(&self) -> Option<TissueClass> {
        if let Some((scheme, value, _)) = &self.code {
            let by_code = match (scheme.as_str(), value.as_str()) {
                ("SCT", "91727004" | "127954009") | ("SRT", "T-13009") => {
                    Some(TissueClass::SkeletalMuscle)
                }
                ("SCT", "71966008") | ("SRT", "T-03000") => Some(TissueClass::Sat),
                (crate::report::seg::LOCAL_SCHEME, local) => TissueClass::TISSUES
                    .into_iter()
                    .find(|t| crate::report::seg::type_code(*t) == local),
                _ => None,
            };
            if by_code.is_some() {
                return by_code;
            }
        }
        let meaning = self.code.as_ref().map(|(_, _, m)| m.as_str());
        [Some(self.label.as_str()), meaning]
            .into_iter()
            .flatten()
            .find_map(tissue_named)
    }
}

/// The tissue a segment's name says, by the words of body-composition protocols.
fn tissue_named(name: &str) -> Option<TissueClass> {
    let name = name.to_lowercase();
    let words: Vec<&str> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    if name.contains("intermuscular") || name.contains("intramuscular") || has("imat") {
        Some(TissueClass::Imat)
    } else if name.contains("visceral") || has("vat") {
        Some(TissueClass::Vat)
    } else if name.contains("subcutaneous") || has("sat") || has("scat") {
        Some(TissueClass::Sat)
    } else if name.contains("muscle") || has("sma") || has("skm") {
        Some(TissueClass::SkeletalMuscle)
    } else {
        None
    }
}

/// The user's word on segments whose code and label do not say a tissue: by label (any
/// case), a tissue or `None` to leave the segment out; with `ignore_others`, every other
/// such segment is left out (without it the file is refused and they are listed, so
/// nothing is left out silently).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentNames {
    pub by_label: BTreeMap<String, Option<TissueClass>>,
    pub ignore_others: bool,
}

impl SegmentNames {
    /// `Psoas=muscle,Liver=ignore,*=ignore`: labels to `muscle`, `imat`, `vat`, `sat` or
    /// `ignore`; `*=ignore` leaves out every other segment that says no tissue.
    pub fn parse(text: &str) -> Result<SegmentNames, String> {
        let mut names = SegmentNames::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (label, tissue) = part
                .rsplit_once('=')
                .ok_or_else(|| format!("`{part}` is not label=tissue (e.g. Psoas=muscle)"))?;
            let tissue = match tissue.trim() {
                "ignore" => None,
                key => Some(
                    TissueClass::TISSUES
                        .into_iter()
                        .find(|t| t.key() == key)
                        .ok_or_else(|| {
                            format!("`{key}` is not a tissue: muscle, imat, vat, sat or ignore")
                        })?,
                ),
            };
            match label.trim() {
                "*" if tissue.is_none() => names.ignore_others = true,
                "*" => {
                    return Err(
                        "`*` can only be ignored (`*=ignore`): name each segment that is a tissue"
                            .into(),
                    )
                }
                label => {
                    names.by_label.insert(label.to_lowercase(), tissue);
                }
            }
        }
        Ok(names)
    }

    /// The tissue of `segment` (`None`: left out), or `Err` when nothing says it.
    fn tissue(&self, segment: &Segment) -> Result<Option<TissueClass>, ()> {
        if let Some(chosen) = self.by_label.get(&segment.label.to_lowercase()) {
            return Ok(*chosen);
        }
        match segment.known_tissue() {
            Some(t) => Ok(Some(t)),
            None if self.ignore_others => Ok(None),
            None => Err(()),
        }
    }
}

/// Why a SEG could not be read as a reader's mask, in words for the person who chose it.
#[derive(Debug, thiserror::Error)]
pub enum SegError {
    #[error(transparent)]
    Dicom(#[from] DicomError),
    #[error("it is a DICOM file but not a Segmentation (its SOP class is {0})")]
    NotSegmentation(String),
    #[error("its segmentation type is {0}; BINARY and FRACTIONAL segmentations can be read")]
    Kind(String),
    #[error("its segments {} do not say which tissue they are: name them (for example `Segment_1=muscle`, or `*=ignore` to leave the others out)", quoted(.0))]
    Unnamed(Vec<String>),
    #[error("frame {frame} names segment {segment}, which the file does not describe")]
    NoSuchSegment { frame: usize, segment: u16 },
    #[error("frame {0} says neither which CT image it was drawn on nor where it lies")]
    Unplaced(usize),
    #[error(
        "{pixels} pixels are marked as both {first} and {second}: a pixel can be one tissue only"
    )]
    Overlap {
        pixels: usize,
        first: &'static str,
        second: &'static str,
    },
    #[error("none of its segments is a tissue under the names chosen (segments: {0})")]
    NoTissue(String),
    #[error("its pixels have {0} samples each; a segmentation has one")]
    Samples(u16),
}

/// Labels as the messages list them: “Segment_2”, “Liver”.
fn quoted(labels: &[String]) -> String {
    let quoted: Vec<String> = labels.iter().map(|l| format!("“{l}”")).collect();
    quoted.join(", ")
}

/// Where one frame's plane lies: its source image, else its position.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum PlaneKey {
    Source(String),
    /// Patient z (mm), rounded to a hundredth so frames of one plane meet.
    At(i64),
}

/// Reads a SEG file into one reader's mask per image plane it covers.
pub fn read(bytes: &[u8], names: &SegmentNames) -> Result<Vec<ReferenceMask>, SegError> {
    let parsed = dicom::open(bytes)?;
    let instance = Instance::from_parsed(&parsed, parsed.has_pixel_data());
    if instance.sop_class != SEGMENTATION_STORAGE {
        return Err(SegError::NotSegmentation(instance.sop_class));
    }
    let obj: &InMemDicomObject = &parsed.obj;
    let kind = text(obj, tags::SEGMENTATION_TYPE).unwrap_or_default();
    // In a FRACTIONAL SEG a pixel belongs from half of the maximum value up.
    let threshold = match kind.as_str() {
        "BINARY" => 1,
        "FRACTIONAL" => {
            let max = obj
                .element_opt(tags::MAXIMUM_FRACTIONAL_VALUE)
                .ok()
                .flatten()
                .and_then(|e| e.to_int::<i32>().ok())
                .filter(|&m| m > 0)
                .unwrap_or(255);
            (max + 1) / 2
        }
        other => return Err(SegError::Kind(other.to_owned())),
    };
    let segments: Vec<Segment> = items(obj, tags::SEGMENT_SEQUENCE)
        .iter()
        .map(|item| Segment {
            number: item
                .element_opt(tags::SEGMENT_NUMBER)
                .ok()
                .flatten()
                .and_then(|e| e.to_int::<u16>().ok())
                .unwrap_or(0),
            label: text(item, tags::SEGMENT_LABEL).unwrap_or_default(),
            code: nested(item, tags::SEGMENTED_PROPERTY_TYPE_CODE_SEQUENCE).map(|c| {
                let field = |tag: Tag| text(c, tag).unwrap_or_default();
                (
                    field(tags::CODING_SCHEME_DESIGNATOR),
                    field(tags::CODE_VALUE),
                    field(tags::CODE_MEANING),
                )
            }),
        })
        .collect();
    let mut tissues = BTreeMap::new();
    let mut unnamed = Vec::new();
    for segment in &segments {
        match names.tissue(segment) {
            Ok(tissue) => {
                tissues.insert(segment.number, tissue);
            }
            Err(()) => unnamed.push(segment.label.clone()),
        }
    }
    if !unnamed.is_empty() {
        return Err(SegError::Unnamed(unnamed));
    }
    if tissues.values().all(Option::is_none) {
        let labels: Vec<String> = segments.iter().map(|s| s.label.clone()).collect();
        return Err(SegError::NoTissue(quoted(&labels)));
    }

    // DICOM SEG is monochrome; a colour file's frames would be longer than the mask.
    if instance.samples_per_pixel != 1 {
        return Err(SegError::Samples(instance.samples_per_pixel));
    }
    instance.check_size()?;
    let frames = pixels::decode_stored(&parsed, &instance)?;
    let per_frame = items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    let shared = nested(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE);
    let (columns, rows) = (frames.columns, frames.rows);
    let mut planes: Vec<(PlaneKey, Plane)> = Vec::new();
    for f in 0..frames.frames {
        let groups = per_frame.get(f);
        let in_groups = |sequence: Tag| {
            groups
                .and_then(|g| nested(g, sequence))
                .or_else(|| shared.and_then(|s| nested(s, sequence)))
        };
        let segment = in_groups(tags::SEGMENT_IDENTIFICATION_SEQUENCE)
            .and_then(|s| {
                s.element_opt(tags::REFERENCED_SEGMENT_NUMBER)
                    .ok()
                    .flatten()
            })
            .and_then(|e| e.to_int::<u16>().ok())
            .unwrap_or(0);
        let tissue = *tissues.get(&segment).ok_or(SegError::NoSuchSegment {
            frame: f + 1,
            segment,
        })?;
        let Some(tissue) = tissue else {
            continue;
        };
        let source = in_groups(tags::DERIVATION_IMAGE_SEQUENCE)
            .and_then(|d| nested(d, tags::SOURCE_IMAGE_SEQUENCE))
            .and_then(|s| text(s, tags::REFERENCED_SOP_INSTANCE_UID))
            .filter(|uid| !uid.is_empty());
        let geometry = instance
            .frame_geometry
            .get(f)
            .or(instance.frame_geometry.last());
        let position = geometry.and_then(|g| g.position);
        let key = match (&source, position) {
            (Some(uid), _) => PlaneKey::Source(uid.clone()),
            (None, Some(p)) => PlaneKey::At((p[2] * 100.0).round() as i64),
            (None, None) => return Err(SegError::Unplaced(f + 1)),
        };
        let at = match planes.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                planes.push((
                    key,
                    Plane {
                        mask: TissueMask::empty(columns, rows),
                        source,
                        position,
                        overlap: BTreeMap::new(),
                    },
                ));
                planes.len() - 1
            }
        };
        let plane = &mut planes[at].1;
        let values = frames.frame(f).unwrap_or(&[]);
        for (i, &v) in values.iter().enumerate() {
            if v >= threshold {
                let before = plane.mask.labels()[i];
                if before != 0 && before != tissue.label() {
                    *plane.overlap.entry((before, tissue.label())).or_insert(0) += 1;
                }
                plane.mask.set(i, tissue);
            }
        }
    }
    let geometry = instance.frame_geometry.first();
    let pixel_spacing = geometry
        .and_then(|g| g.pixel_spacing)
        .map(|[r, c]| [Millimetres(r), Millimetres(c)]);
    let slice_spacing = obj
        .element_opt(tags::SPACING_BETWEEN_SLICES)
        .ok()
        .flatten()
        .and_then(|e| e.to_float64().ok())
        .or(geometry.and_then(|g| g.slice_thickness))
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(1.0);
    planes.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    planes
        .into_iter()
        .enumerate()
        .map(|(k, (_, plane))| {
            if let Some((&(first, second), &pixels)) = plane.overlap.iter().next() {
                let name = |l: u8| TissueClass::from_label(l).unwrap_or_default().name();
                return Err(SegError::Overlap {
                    pixels,
                    first: name(first),
                    second: name(second),
                });
            }
            let placement = match (plane.source, plane.position) {
                (Some(sop_instance_uid), _) => Placement::Source { sop_instance_uid },
                (None, Some(p)) => Placement::At {
                    z_mm: p[2],
                    slice_spacing,
                },
                (None, None) => Placement::Named,
            };
            Ok(ReferenceMask {
                mask: plane.mask,
                pixel_spacing,
                placement,
                slice: Some(k),
                origin_mm: plane.position.map(|p| [p[0], p[1]]),
            })
        })
        .collect()
}

/// One image plane's mask as its frames are read.
struct Plane {
    mask: TissueMask,
    source: Option<String>,
    position: Option<[f64; 3]>,
    /// Pixels claimed by two tissues: (first label, second label) → count.
    overlap: BTreeMap<(u8, u8), usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(label: &str, code: Option<(&str, &str, &str)>) -> Segment {
        Segment {
            number: 1,
            label: label.into(),
            code: code.map(|(s, v, m)| (s.into(), v.into(), m.into())),
        }
    }

    #[test]
    fn tissues_are_known_by_code_then_by_name() {
        let muscle = segment("Segment_1", Some(("SCT", "91727004", "Muscle")));
        assert_eq!(muscle.known_tissue(), Some(TissueClass::SkeletalMuscle));
        let sat = segment("x", Some(("SRT", "T-03000", "Subcutaneous tissue")));
        assert_eq!(sat.known_tissue(), Some(TissueClass::Sat));
        let ours = segment("anything", Some(("99SARCO", "IMAT", "IMAT")));
        assert_eq!(ours.known_tissue(), Some(TissueClass::Imat));
        let imat = segment("Intermuscular adipose tissue", None);
        assert_eq!(imat.known_tissue(), Some(TissueClass::Imat));
        assert_eq!(segment("VAT", None).known_tissue(), Some(TissueClass::Vat));
        assert_eq!(
            segment("subcutaneous fat", None).known_tissue(),
            Some(TissueClass::Sat)
        );
        assert_eq!(
            segment("Skeletal muscle", None).known_tissue(),
            Some(TissueClass::SkeletalMuscle)
        );
        // "saturation" holds "sat" but not as a word.
        assert_eq!(segment("saturation", None).known_tissue(), None);
        assert_eq!(segment("Liver", None).known_tissue(), None);
    }

    #[test]
    fn the_users_names_come_first_and_others_can_be_left_out() {
        let names = SegmentNames::parse("Segment_1=muscle, VAT=ignore, *=ignore").expect("names");
        let tissue = |label: &str| names.tissue(&segment(label, None));
        assert_eq!(tissue("segment_1"), Ok(Some(TissueClass::SkeletalMuscle)));
        assert_eq!(tissue("VAT"), Ok(None));
        assert_eq!(tissue("SAT"), Ok(Some(TissueClass::Sat)));
        assert_eq!(tissue("Liver"), Ok(None));
        let strict = SegmentNames::default();
        assert_eq!(strict.tissue(&segment("Liver", None)), Err(()));
        let e = SegmentNames::parse("Liver=organ").expect_err("no such tissue");
        assert!(e.contains("`organ` is not a tissue"), "{e}");
        let e = SegmentNames::parse("*=muscle").expect_err("every other segment a muscle?");
        assert!(e.contains("`*=ignore`"), "{e}");
    }
}
