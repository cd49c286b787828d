//! The segmentation network (Burn): the U-Net, its model files, and running it on a
//! slice — on WebGPU or the pure-Rust CPU backend in the browser, natively on wgpu or
//! the CPU, where it is also trained and validated.
//!
//! A crate of its own so that only what runs the network carries Burn: the core
//! (`sarcoscope`) puts a slice on the network's grid and takes the scores back
//! ([`sarcoscope::segment`]); this crate sits between those two steps.

#[cfg(not(target_arch = "wasm32"))]
pub mod device;
pub mod finetune;
pub mod model;
pub mod run;
pub mod score;
pub mod train;
pub mod unet;
#[cfg(not(target_arch = "wasm32"))]
pub mod validation;

/// Where a model lives (WebGPU, another GPU, the CPU), for callers without Burn of their own.
pub use burn::prelude::Device;
/// Reads one of this crate's futures at once (natively; the browser awaits them).
#[cfg(not(target_arch = "wasm32"))]
pub use burn::tensor::read_sync as wait;
pub use model::{ModelCard, ModelError};
pub use run::{PostProcess, Prepared, Segmentation, Segmenter};
