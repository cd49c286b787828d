//! DICOM ingest: bytes → [`Instance`] headers → [`series`] → decoded pixels.
//!
//! Headers are read first and cheaply (stopping before the pixel data); pixels are
//! decoded only for the series a user looks at, so a large study never holds decoded
//! slices it does not need.

pub mod codec;
mod error;
mod file;

pub mod instance;
pub mod pixels;
pub mod series;
pub mod syntax;
pub mod write;

pub use error::DicomError;
pub use file::{open, open_header, ParsedFile, MAX_SEQUENCE_DEPTH};
pub use instance::{AcquisitionFacts, Instance, PatientFacts};

/// Reads one file's header facts. The whole file is parsed (pixel data included, but
/// not decoded) so that a file cut short is caught here, with the other per-file errors.
pub fn read_instance(bytes: &[u8]) -> Result<Instance, DicomError> {
    read_parsed(bytes).map(|(instance, _)| instance)
}

/// [`read_instance`], keeping the parsed file: a caller that decodes the file's images
/// next (the browser's worker, holding a small set's bytes) then parses each file once
/// — measured in Chromium, parsing was half of the work on the 112 small files of the
/// shared example series.
pub fn read_parsed(bytes: &[u8]) -> Result<(Instance, ParsedFile), DicomError> {
    let parsed = open(bytes)?;
    let instance = Instance::from_parsed(&parsed, parsed.has_pixel_data());
    instance.check_size()?;
    Ok((instance, parsed))
}

/// A file's header, from its first bytes when they hold it (its images are then read
/// once, when their series is decoded), else from the whole file. `prefix` gives the
/// first [`HEADER_PREFIX_BYTES`] (all of a smaller file), `whole` the whole file. A file
/// no larger than the prefix is read whole, which also catches one cut short.
pub fn read_header(
    prefix: impl FnOnce(usize) -> Result<Vec<u8>, DicomError>,
    whole: impl FnOnce() -> Result<Vec<u8>, DicomError>,
) -> Result<Instance, DicomError> {
    let first = prefix(HEADER_PREFIX_BYTES)?;
    if first.len() < HEADER_PREFIX_BYTES {
        return read_instance(&first);
    }
    match read_instance_from_prefix(&first) {
        Some(instance) => Ok(instance),
        None => read_instance(&whole()?),
    }
}

/// How much of a file [`read_instance_from_prefix`] wants: CT headers are a few KiB.
pub const HEADER_PREFIX_BYTES: usize = 64 * 1024;

/// Reads the header facts from the first bytes of a larger file, so that a study's
/// headers can be read without reading every image. Returns `None` — read the whole
/// file with [`read_instance`] instead — unless the header ends inside `prefix` at the
/// pixel data element (whose tag must be there to see). A file cut short is then only
/// found when its pixels are decoded.
pub fn read_instance_from_prefix(prefix: &[u8]) -> Option<Instance> {
    const PIXEL_DATA_LE: [u8; 4] = [0xE0, 0x7F, 0x10, 0x00];
    const PIXEL_DATA_BE: [u8; 4] = [0x7F, 0xE0, 0x00, 0x10];
    let has_tag = prefix
        .windows(4)
        .any(|w| w == PIXEL_DATA_LE || w == PIXEL_DATA_BE);
    if !has_tag {
        return None;
    }
    let parsed = open_header(prefix).ok()?;
    let instance = Instance::from_parsed(&parsed, true);
    instance.check_size().ok()?;
    Some(instance)
}
