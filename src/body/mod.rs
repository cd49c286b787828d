//! Body composition from a tissue mask: areas and attenuation per tissue.

pub mod metrics;

pub use metrics::{measure, TissueMeasure};
