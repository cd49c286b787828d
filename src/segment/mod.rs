//! Muscle and fat segmentation of one axial slice.
//!
//! Pre-processing ([`grid`]) puts the slice on the network's fixed physical grid and
//! normalises HU; the network (the `sarcoscope-network` crate, Burn) scores each class;
//! post-processing takes the scores back to the slice's own pixels, removes specks and
//! fills pinholes ([`cleanup`]), and
//! the Alberta HU windows ([`windows`]) decide, pixel by pixel, whether the tissue the
//! network saw there counts. The device the model lives on (WebGPU, another GPU, or the
//! CPU) is the caller's choice; everything else is the same code on every path.

pub mod classes;
pub mod cleanup;
pub mod dataset;
pub mod edit;
pub mod eval;
pub mod grid;
pub mod mask;
#[cfg(not(target_arch = "wasm32"))]
pub mod reference;
pub mod site;
pub mod slice;
pub mod trunk;
pub mod windows;

pub use classes::TissueClass;
pub use cleanup::Cleanup;
pub use grid::{InputSpec, Placement};
pub use mask::TissueMask;
pub use slice::{AxialSlice, SliceError};
pub use trunk::{LeftOut, Trunk};
pub use windows::{HuRange, HuWindows};

/// The name of the model this repository ships (`models/<name>.json`).
pub const DEFAULT_MODEL: &str = "sarcoscope-l3-unet";
