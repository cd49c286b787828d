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
