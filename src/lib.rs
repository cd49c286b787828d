//! Sarcoscope core: from DICOM bytes to body composition and prognosis, free of browser
//! types so that every step runs (and is tested) natively as well as in WebAssembly.
//!
//! # The pipeline
//!
//! The data path reads off the module tree, each layer using only those before it:
//!
//! 1. [`dicom`]: bytes → [`dicom::Instance`] headers → studies and [`dicom::series`] →
//!    decoded pixels.
//! 2. [`volume`]: one series as Hounsfield units with its geometry.
//! 3. [`l3`]: where the third lumbar vertebra is, and how sure that is.
//! 4. [`ingest`]: which files, which series, and the decoding worker's state machine —
//!    the page, the command line and the tests open a folder the same way.
//! 5. [`segment`]: muscle and fat on the L3 slice (the pre- and post-processing around
//!    the network, corrections by hand; the network itself is the `sarcoscope-network`
//!    crate, so that only what runs it carries Burn).
//! 6. [`body`]: areas, indices, attenuation, and the sarcopenia and myosteatosis calls
//!    under cited cut-off sets.
//! 7. [`clinical`]: the prognosis scores and the study's eligibility.
//! 8. [`survival`]: cohort statistics — Kaplan–Meier, log-rank, the Cox model and its
//!    concordance, as R computes them — for developing and validating the study's model.
//! 9. [`report`]: what a clinician reads and exports (QC flags, CSV, DICOM SEG).
//! 10. [`agree`]: how well the automatic measurement agrees with expert readers (mask
//!     overlap, Bland–Altman, ICC, concordance, kappa, as R computes them) and readers'
//!     masks read in (Slice-O-Matic `.tag`).
//!
//! Leaves any layer may use: [`units`], [`sex`], [`provenance`], [`csv`], [`digest`],
//! [`nifti`], [`png`], [`rng`], [`stats`] (distributions and moments as R computes
//! them). Beside the path: [`phantom`] (synthetic CT for the demo, tests and training)
//! and [`inspect`] (per-file decoding reports). The browser
//! app (the `sarcoscope-web` and `sarcoscope-segmenter` crates, wasm only) and the
//! command line (`sarcoscope-cli`) are thin layers over all of it, each a crate of the
//! workspace, so none of this can reach up to them. On wasm, a
//! small module supplies the C allocation functions the JPEG 2000 decoder imports
//! (`wasm_libc`), with an allocator that both C and Rust can free through.
//!
//! # One chain, end to end
//!
//! ```
//! use sarcoscope::{dicom, ingest::{Catalogue, SeriesFiles}, l3, phantom, volume};
//!
//! // A small synthetic CT, written as DICOM files and read back like a user's folder.
//! let params = phantom::PhantomParams {
//!     grid: phantom::Grid { columns: 48, rows: 48, slices: 12, ..Default::default() },
//!     ..Default::default()
//! };
//! let files = phantom::Phantom::generate(&params).dicom_files().unwrap();
//! let headers: Vec<_> = files.iter().map(|b| dicom::read_instance(b).ok()).collect();
//! let catalogue = Catalogue::build(&headers);
//! let ct = catalogue.series(catalogue.chosen.unwrap()).unwrap();
//! let own = SeriesFiles::of(ct, &headers).unwrap();
//! let (volume, failures) = volume::load(
//!     &own.series,
//!     &own.instances,
//!     |k| Ok(files[own.files[k].0].clone()),
//!     |_, _| {},
//! )
//! .unwrap();
//! assert!(failures.is_empty());
//! assert_eq!(volume.header.slices, 12);
//! let level = l3::locate(&volume);
//! assert!(level.confidence >= 0.0);
//! ```

pub mod agree;
pub mod batch;
pub mod body;
pub mod clinical;
pub mod csv;
pub mod dicom;
pub mod digest;
pub mod ingest;
pub mod inspect;
pub mod l3;
pub mod nifti;
pub mod phantom;
pub mod png;
pub mod provenance;
pub mod report;
pub mod rng;
pub mod segment;
pub mod sex;
pub mod stats;
pub mod survival;
pub mod units;
pub mod volume;
#[cfg(target_arch = "wasm32")]
mod wasm_libc;
pub mod zip;
