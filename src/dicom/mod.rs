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

pub use error::DicomError;
pub use file::{open, open_header, ParsedFile};
pub use instance::Instance;

/// Reads one file's header facts. The whole file is parsed (pixel data included, but
/// not decoded) so that a file cut short is caught here, with the other per-file errors.
pub fn read_instance(bytes: &[u8]) -> Result<Instance, DicomError> {
    let parsed = open(bytes)?;
    Ok(Instance::from_parsed(&parsed, parsed.has_pixel_data()))
}
