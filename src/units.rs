//! Small types that carry units, so a spacing is never confused with an index.

use serde::{Deserialize, Serialize};

/// A length in millimetres, in patient space.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Millimetres(pub f64);

/// A Hounsfield unit value (CT attenuation relative to water = 0, air = −1000).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Hu(pub f64);

/// A slice position in an ordered volume, counted from the most inferior slice (0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SliceIndex(pub usize);

/// The linear map from stored pixel values to modality values (HU for CT),
/// `value = stored × slope + intercept` (DICOM PS3.3 C.11.1, Modality LUT).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rescale {
    pub slope: f64,
    pub intercept: f64,
}

impl Default for Rescale {
    fn default() -> Self {
        Rescale {
            slope: 1.0,
            intercept: 0.0,
        }
    }
}

impl Rescale {
    pub fn apply(&self, stored: i32) -> Hu {
        Hu(stored as f64 * self.slope + self.intercept)
    }
}
