//! Readers' masks in the formats they arrive in, each read into a [`TissueMask`] with
//! what places it on a CT slice: a Slice-O-Matic `.tag` file or a PNG label map (as
//! Sarcoscope exports them) belongs to the CT image it is named after; a DICOM SEG names
//! the CT image each plane was drawn on (else its position); a NIfTI label map holds a
//! whole series, and each of its slices that holds a tissue belongs to the CT slice at the
//! same position along the body.

use std::io::Cursor;
use std::path::Path;

use super::seg::{self, SegError, SegmentNames};
use super::tag::{self, TagError, TagNumbers};
use crate::nifti::{self, NiftiError};
use crate::segment::{TissueClass, TissueMask};
use crate::units::Millimetres;

/// The formats a reference mask can come in, known by the file's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Tag,
    Png,
    Nifti,
    Seg,
}

impl Format {
    /// `.tag`, `.png`, `.nii` or `.nii.gz` (any case) by name; any other file is a DICOM
    /// SEG when it is a DICOM file (`DICM` after the 128-byte preamble: DICOM files often
    /// have no extension); `None` for anything else.
    pub fn of(path: &Path, bytes: &[u8]) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".tag") {
            Some(Format::Tag)
        } else if name.ends_with(".png") {
            Some(Format::Png)
        } else if name.ends_with(".nii") || name.ends_with(".nii.gz") {
            Some(Format::Nifti)
        } else if bytes.get(128..132) == Some(b"DICM") {
            Some(Format::Seg)
        } else {
            None
        }
    }
}

/// How the numbers or segments of a reader's file stand for tissues.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Numbering {
    /// In `.tag` files and NIfTI label maps.
    pub numbers: TagNumbers,
    /// For DICOM SEG segments whose codes and labels do not say.
    pub segments: SegmentNames,
}

/// Where a reference mask belongs.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// On the CT image the file is named after (`NAME.dcm.tag` or `NAME.png` for
    /// `NAME.dcm`).
    Named,
    /// On the slice of the CT series at this position along the body (patient z, mm),
    /// within half of `slice_spacing`.
    At { z_mm: f64, slice_spacing: f64 },
    /// On the CT image with this SOP Instance UID (a DICOM SEG's source image).
    Source { sop_instance_uid: String },
}

/// One reader's mask of one CT slice.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceMask {
    pub mask: TissueMask,
    /// Pixel size (between rows, between columns) when the file says it.
    pub pixel_spacing: Option<[Millimetres; 2]>,
    pub placement: Placement,
    /// The slice of a label map it was cut from (0 = most inferior); `None` for a file of
    /// one slice.
    pub slice: Option<usize>,
    /// Where its first pixel's centre lies across the body (patient x, y in mm, DICOM's
    /// LPS), when the file says: a mask shifted against its CT image is refused.
    pub origin_mm: Option<[f64; 2]>,
}

/// Why a reference file could not be read, in words for the person who chose it.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error(transparent)]
    Tag(#[from] TagError),
    #[error("it is not a readable PNG ({0})")]
    Png(String),
    #[error("the PNG is {0}, not 8-bit greyscale as Sarcoscope writes label maps")]
    PngKind(String),
    #[error(
        "the PNG claims {columns} × {rows} pixels, more than any CT slice (at most 4096 × 4096)"
    )]
    PngSize { columns: usize, rows: usize },
    #[error("the PNG holds the value {0}, which is not a Sarcoscope label (0 background, 1 muscle, 2 IMAT, 3 VAT, 4 SAT)")]
    PngValue(u8),
    #[error(transparent)]
    Nifti(#[from] NiftiError),
    #[error("the label map holds values that are not whole numbers from 0 to 255 (such as {0}): it is not a label map")]
    NotLabels(f32),
    #[error("no slice of the label map holds a tissue under the chosen numbers; it holds {0}")]
    NoTissue(String),
    #[error(transparent)]
    Seg(#[from] SegError),
}

/// The most pixels a PNG label map may hold (a 4096² slice).
const MAX_PNG_PIXELS: u64 = 4096 * 4096;

/// Reads one reference file of `format`; `numbering` says which numbers or segments
/// stand for which tissue (a PNG holds Sarcoscope's labels).
pub fn read(
    format: Format,
    bytes: &[u8],
    numbering: &Numbering,
) -> Result<Vec<ReferenceMask>, ReferenceError> {
    match format {
        Format::Tag => {
            let traced = tag::read(bytes, &numbering.numbers)?;
            Ok(vec![ReferenceMask {
                mask: traced.mask,
                pixel_spacing: traced.pixel_spacing,
                placement: Placement::Named,
                slice: None,
                origin_mm: None,
            }])
        }
        Format::Png => Ok(vec![ReferenceMask {
            mask: read_png(bytes)?,
            pixel_spacing: None,
            placement: Placement::Named,
            slice: None,
            origin_mm: None,
        }]),
        Format::Nifti => read_nifti(bytes, &numbering.numbers),
        Format::Seg => Ok(seg::read(bytes, &numbering.segments)?),
    }
}

/// A PNG label map as Sarcoscope exports it: 8-bit greyscale, one label (0–4) a pixel.
pub fn read_png(bytes: &[u8]) -> Result<TissueMask, ReferenceError> {
    let limits = png::Limits {
        bytes: MAX_PNG_PIXELS as usize,
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder
        .read_info()
        .map_err(|e| ReferenceError::Png(e.to_string()))?;
    let info = reader.info();
    let (columns, rows) = (info.width as usize, info.height as usize);
    if (info.color_type, info.bit_depth) != (png::ColorType::Grayscale, png::BitDepth::Eight) {
        return Err(ReferenceError::PngKind(format!(
            "{:?} at {} bits",
            info.color_type, info.bit_depth as u8
        )));
    }
    // The decoder's limit covers its own buffers, not the image this allocates: a header
    // claiming 8 × 4,294,180,870 pixels had it ask for 34 GB (found by fuzzing).
    if columns
        .checked_mul(rows)
        .is_none_or(|pixels| pixels as u64 > MAX_PNG_PIXELS)
    {
        return Err(ReferenceError::PngSize { columns, rows });
    }
    let mut labels = vec![0; columns * rows];
    reader
        .next_frame(&mut labels)
        .map_err(|e| ReferenceError::Png(e.to_string()))?;
    if let Some(&value) = labels
        .iter()
        .find(|&&l| TissueClass::from_label(l).is_none())
    {
        return Err(ReferenceError::PngValue(value));
    }
    TissueMask::from_labels(columns, rows, labels)
        .ok_or_else(|| ReferenceError::Png("its size does not match its pixels".into()))
}

/// A NIfTI label map: each slice holding at least one pixel of a tissue under `numbers`
/// becomes a mask placed by its position along the body.
pub fn read_nifti(
    bytes: &[u8],
    numbers: &TagNumbers,
) -> Result<Vec<ReferenceMask>, ReferenceError> {
    let stack = nifti::read(bytes)?;
    if let Some(&odd) = stack
        .values
        .iter()
        .find(|v| !(v.fract() == 0.0 && (0.0..=255.0).contains(*v)))
    {
        return Err(ReferenceError::NotLabels(odd));
    }
    let [row_mm, column_mm] = stack.pixel_spacing.map(Millimetres);
    let mut masks = Vec::new();
    let mut found = std::collections::BTreeSet::new();
    for (k, &z_mm) in stack.slice_z_mm.iter().enumerate() {
        let Some(values) = stack.slice(k) else {
            continue;
        };
        let mut mask = TissueMask::empty(stack.columns, stack.rows);
        let mut any = false;
        for (i, &v) in values.iter().enumerate() {
            // Whole numbers 0–255, checked above.
            let number = v as u8;
            if number != 0 {
                found.insert(number);
            }
            let class = numbers.class(number);
            any |= class != TissueClass::Background;
            mask.set(i, class);
        }
        if any {
            masks.push(ReferenceMask {
                mask,
                pixel_spacing: Some([row_mm, column_mm]),
                placement: Placement::At {
                    z_mm,
                    slice_spacing: stack.slice_spacing,
                },
                slice: Some(k),
                origin_mm: Some(stack.origin_mm),
            });
        }
    }
    if masks.is_empty() {
        let held = if found.is_empty() {
            "no labels at all".to_owned()
        } else {
            let list: Vec<String> = found.iter().map(u8::to_string).collect();
            format!("the numbers {}", list.join(", "))
        };
        return Err(ReferenceError::NoTissue(held));
    }
    Ok(masks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(columns: usize, rows: usize) -> TissueMask {
        let labels = (0..columns * rows).map(|i| (i % 5) as u8).collect();
        TissueMask::from_labels(columns, rows, labels).expect("labels 0–4")
    }

    #[test]
    fn a_png_label_map_reads_back_as_written() {
        let written = mask(7, 5);
        let png = crate::png::grey8(7, 5, written.labels());
        assert_eq!(read_png(&png).expect("PNG"), written);
    }

    #[test]
    fn a_png_that_is_not_a_label_map_says_why() {
        let mut labels = vec![0u8; 12];
        labels[3] = 200;
        let png = crate::png::grey8(4, 3, &labels);
        let e = read_png(&png).expect_err("200 is no label");
        assert!(e.to_string().contains("value 200"), "{e}");
        let e = read_png(b"\x89PNG\r\n\x1a\nnot really").expect_err("damaged");
        assert!(e.to_string().starts_with("it is not a readable PNG"), "{e}");
    }

    #[test]
    fn formats_are_known_by_name() {
        let of = |name: &str| Format::of(Path::new(name), b"");
        assert_eq!(of("a/IM1.dcm.tag"), Some(Format::Tag));
        assert_eq!(of("S0001.PNG"), Some(Format::Png));
        assert_eq!(of("labels.nii.gz"), Some(Format::Nifti));
        assert_eq!(of("labels.nii"), Some(Format::Nifti));
        assert_eq!(of("IM1.dcm"), None);
        let mut dicom = vec![0u8; 132];
        dicom[128..].copy_from_slice(b"DICM");
        assert_eq!(Format::of(Path::new("SEG0001"), &dicom), Some(Format::Seg));
    }
}
