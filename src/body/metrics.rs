//! Area and attenuation of each tissue on one slice.
//!
//! Area is the pixel count times the pixel area from the slice's own spacing (DICOM
//! Pixel Spacing), the definition every L3 study uses; mean and SD of HU are over the
//! same pixels, as muscle radiodensity is reported (Aubrey et al., Acta Physiol 2014).

use serde::{Deserialize, Serialize};

use crate::segment::{AxialSlice, TissueClass, TissueMask};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TissueMeasure {
    pub tissue: TissueClass,
    pub pixels: usize,
    pub area_cm2: f64,
    /// `None` when the tissue is absent.
    pub mean_hu: Option<f64>,
    pub sd_hu: Option<f64>,
}

/// One measure per tissue (muscle, IMAT, VAT, SAT), in that order.
pub fn measure(mask: &TissueMask, slice: &AxialSlice) -> Vec<TissueMeasure> {
    let pixel = slice.pixel_area_cm2();
    TissueClass::TISSUES
        .iter()
        .map(|&tissue| {
            let (mut n, mut sum, mut sum2) = (0usize, 0.0f64, 0.0f64);
            for (i, &label) in mask.labels().iter().enumerate() {
                if label == tissue.label() {
                    let hu = f64::from(slice.value(i % slice.columns, i / slice.columns));
                    n += 1;
                    sum += hu;
                    sum2 += hu * hu;
                }
            }
            let mean = (n > 0).then(|| sum / n as f64);
            let sd = (n > 1).then(|| {
                let m = sum / n as f64;
                ((sum2 - n as f64 * m * m) / (n as f64 - 1.0))
                    .max(0.0)
                    .sqrt()
            });
            TissueMeasure {
                tissue,
                pixels: n,
                area_cm2: n as f64 * pixel,
                mean_hu: mean,
                sd_hu: sd,
            }
        })
        .collect()
}
