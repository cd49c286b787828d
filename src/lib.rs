//! Sarcoscope core: from DICOM bytes to body composition and prognosis, free of browser
//! types so that every step runs (and is tested) natively as well as in WebAssembly.
//!
//! The data path reads off the module tree: [`dicom`] (bytes → instances → series) →
//! [`volume`] (Hounsfield units + geometry) → … → [`inspect`] reports per file.

pub mod body;
pub mod clinical;
pub mod dicom;
pub mod inspect;
pub mod l3;
pub mod nifti;
pub mod phantom;
pub mod png;
pub mod provenance;
pub mod report;
pub mod segment;
pub mod units;
pub mod volume;

#[cfg(target_arch = "wasm32")]
pub mod app;
