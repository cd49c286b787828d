//! Per-file reports with the field names of the shared reference (`expected.json`), so
//! any corpus can be checked against any reference decoder.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dicom::{self, pixels, syntax, DicomError, Instance};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredStats {
    pub shape: Vec<usize>,
    pub min: i64,
    pub max: i64,
    pub mean: f64,
    /// SHA-256 of every stored value as a little-endian 32-bit integer, in
    /// frame, row, column, sample order.
    pub sha256_i32le: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HuStats {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// HU of the first frame's pixel at (rows / 2, columns / 2).
    pub center_pixel: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    pub file: String,
    pub parses: bool,
    pub transfer_syntax: Option<String>,
    pub lossy: Option<bool>,
    pub sop_class: Option<String>,
    pub modality: Option<String>,
    pub rows: Option<u32>,
    pub columns: Option<u32>,
    pub frames: Option<u32>,
    pub bits_allocated: Option<u16>,
    pub bits_stored: Option<u16>,
    pub pixel_representation: Option<u16>,
    pub photometric: Option<String>,
    pub rescale_slope: Option<f64>,
    pub rescale_intercept: Option<f64>,
    pub pixel_spacing: Option<[f64; 2]>,
    pub has_pixel_data: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hu: Option<HuStats>,
    /// Why the file could not be read or decoded, in plain language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Reads and decodes one file completely and summarises it, with its header when it
/// could be read. Never panics.
pub fn inspect_bytes(file: &str, bytes: &[u8]) -> (FileReport, Option<Instance>) {
    let mut report = FileReport {
        file: file.to_owned(),
        ..Default::default()
    };
    let opened = dicom::open(bytes);
    let header = match &opened {
        Err(DicomError::EndsEarly) => dicom::open_header(bytes).ok(),
        _ => None,
    };
    let parsed = match (opened, header) {
        (Ok(parsed), _) => parsed,
        (Err(e), Some(parsed)) => {
            report.error = Some(e.to_string());
            let inst = Instance::from_parsed(&parsed, true);
            fill_header(&mut report, &inst, true);
            let usable = inst.check_size().is_ok();
            return (report, usable.then_some(inst));
        }
        (Err(e), None) => {
            report.parses = e == DicomError::Dicomdir;
            report.error = Some(e.to_string());
            return (report, None);
        }
    };
    let has_pixels = parsed.has_pixel_data();
    let inst = Instance::from_parsed(&parsed, has_pixels);
    fill_header(&mut report, &inst, has_pixels);
    if let Err(e) = inst.check_size() {
        report.error = Some(e.to_string());
        return (report, None);
    }
    if !has_pixels {
        report.error = Some(DicomError::NoPixelData.to_string());
        return (report, Some(inst));
    }
    match pixels::decode_stored(&parsed, &inst) {
        Ok(stored) => {
            report.stored = Some(stored_stats(&stored));
            if inst.modality == "CT" && stored.samples == 1 {
                report.hu = hu_stats(&stored, &inst);
            }
        }
        Err(e) => report.error = Some(e.to_string()),
    }
    (report, Some(inst))
}

fn fill_header(report: &mut FileReport, inst: &Instance, has_pixels: bool) {
    report.parses = true;
    report.transfer_syntax = Some(inst.transfer_syntax.clone());
    report.lossy = Some(syntax::info(&inst.transfer_syntax).lossy);
    report.sop_class = Some(inst.sop_class.clone());
    report.modality = Some(inst.modality.clone());
    report.rows = Some(inst.rows);
    report.columns = Some(inst.columns);
    report.frames = Some(inst.frames);
    report.bits_allocated = Some(inst.bits_allocated);
    report.bits_stored = Some(inst.bits_stored);
    report.pixel_representation = Some(inst.pixel_representation);
    report.photometric = Some(inst.photometric.clone());
    let rescale = inst.rescale.unwrap_or_default();
    report.rescale_slope = Some(rescale.slope);
    report.rescale_intercept = Some(rescale.intercept);
    report.pixel_spacing = inst.pixel_spacing;
    report.has_pixel_data = Some(has_pixels);
}

fn stored_stats(stored: &pixels::StoredFrames) -> StoredStats {
    let mut shape = Vec::with_capacity(4);
    if stored.frames > 1 {
        shape.push(stored.frames);
    }
    shape.extend([stored.rows, stored.columns]);
    if stored.samples > 1 {
        shape.push(stored.samples);
    }
    let mut hasher = Sha256::new();
    let (mut min, mut max, mut sum) = (i64::MAX, i64::MIN, 0f64);
    for &v in &stored.values {
        hasher.update(v.to_le_bytes());
        min = min.min(i64::from(v));
        max = max.max(i64::from(v));
        sum += f64::from(v);
    }
    StoredStats {
        shape,
        min,
        max,
        mean: sum / stored.values.len().max(1) as f64,
        sha256_i32le: format!("{:x}", hasher.finalize()),
    }
}

fn hu_stats(stored: &pixels::StoredFrames, inst: &Instance) -> Option<HuStats> {
    let (mut min, mut max, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
    for frame in 0..stored.frames {
        let rescale = inst.rescale_for(frame);
        for &v in stored.frame(frame)? {
            let hu = rescale.apply(v).0;
            min = min.min(hu);
            max = max.max(hu);
            sum += hu;
        }
    }
    let centre = stored
        .frame(0)?
        .get((stored.rows / 2) * stored.columns + stored.columns / 2)?;
    Some(HuStats {
        min,
        max,
        mean: sum / stored.values.len().max(1) as f64,
        center_pixel: inst.rescale_for(0).apply(*centre).0,
    })
}
