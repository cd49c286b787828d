//! The L3 numbers a clinician reads: SMA, SMI, muscle attenuation, low-attenuation
//! muscle, IMAT, VAT and SAT with their height indices, VAT/SAT ratio; and the
//! sarcopenia and myosteatosis calls under a chosen cut-off set.
//!
//! Height is taken from DICOM PatientSize or typed in, and its source is kept: an index
//! is never computed from a guessed height.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::cutoffs::{MyosteatosisCutoffs, Needs, SmiCutoffs};
use super::metrics::{measure, TissueMeasure};
use crate::provenance::Source;
use crate::segment::{AxialSlice, TissueClass, TissueMask};
use crate::sex::Sex;

pub const AREA_SOURCE: Source = Source::verified(
    "Alberta protocol (tomovision.com Slice-O-Matic): area = pixels × row × column spacing; \
     SMI = SMA / height² (CLINICAL.md §2.1)",
);
/// Low-attenuation muscle: muscle pixels from −29 to +29 HU, the lower part of the
/// −29..150 HU muscle window.
pub const LOW_ATTENUATION_SOURCE: Source =
    Source::recalled("Aubrey et al., Acta Physiol 2014: low-attenuation muscle −29 to +29 HU");
pub const LOW_ATTENUATION_HU: (i16, i16) = (-29, 29);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeightSource {
    /// DICOM PatientSize.
    Recorded,
    /// Typed in by the user.
    Entered,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Height {
    pub metres: f64,
    pub source: HeightSource,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum BodyError {
    #[error("height {0} cm is not an adult height (accepted 100–250 cm); check the value and that it is in centimetres")]
    Height(f64),
    #[error("weight {0} kg is outside 20–400 kg; check the value and that it is in kilograms")]
    Weight(f64),
}

impl Height {
    pub fn new(metres: f64, source: HeightSource) -> Result<Height, BodyError> {
        if (1.0..=2.5).contains(&metres) {
            Ok(Height { metres, source })
        } else {
            Err(BodyError::Height(metres * 100.0))
        }
    }
}

/// Sex, height and weight: what the indices and cut-offs need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Anthropometry {
    pub sex: Option<Sex>,
    pub height: Option<Height>,
    pub weight_kg: Option<f64>,
}

impl Anthropometry {
    pub fn checked_weight(kg: f64) -> Result<f64, BodyError> {
        if (20.0..=400.0).contains(&kg) {
            Ok(kg)
        } else {
            Err(BodyError::Weight(kg))
        }
    }

    pub fn bmi(&self) -> Option<f64> {
        let h = self.height?.metres;
        Some(self.weight_kg? / (h * h))
    }
}

/// Areas per height², cm²/m².
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Indices {
    pub smi: f64,
    pub imat: f64,
    pub vat: f64,
    pub sat: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Composition {
    pub tissues: Vec<TissueMeasure>,
    /// Skeletal muscle area, cm².
    pub sma_cm2: f64,
    /// Mean HU of the muscle pixels (muscle radiodensity).
    pub muscle_hu: Option<f64>,
    /// Share of muscle pixels at −29..29 HU, percent.
    pub low_attenuation_muscle_pct: Option<f64>,
    pub imat_cm2: f64,
    pub vat_cm2: f64,
    pub sat_cm2: f64,
    pub vat_sat_ratio: Option<f64>,
    /// `None` without a height.
    pub indices: Option<Indices>,
    pub bmi: Option<f64>,
}

impl Composition {
    pub fn of(mask: &TissueMask, slice: &AxialSlice, body: &Anthropometry) -> Composition {
        let tissues = measure(mask, slice);
        let area = |t: TissueClass| {
            tissues
                .iter()
                .find(|m| m.tissue == t)
                .map_or(0.0, |m| m.area_cm2)
        };
        let muscle = tissues
            .iter()
            .find(|m| m.tissue == TissueClass::SkeletalMuscle);
        let (sma, imat, vat, sat) = (
            area(TissueClass::SkeletalMuscle),
            area(TissueClass::Imat),
            area(TissueClass::Vat),
            area(TissueClass::Sat),
        );
        let (low, high) = LOW_ATTENUATION_HU;
        let low_count = mask
            .labels()
            .iter()
            .enumerate()
            .filter(|&(i, &label)| {
                label == TissueClass::SkeletalMuscle.label()
                    && (f32::from(low)..=f32::from(high))
                        .contains(&slice.value(i % slice.columns, i / slice.columns))
            })
            .count();
        let muscle_pixels = muscle.map_or(0, |m| m.pixels);
        Composition {
            sma_cm2: sma,
            muscle_hu: muscle.and_then(|m| m.mean_hu),
            low_attenuation_muscle_pct: (muscle_pixels > 0)
                .then(|| 100.0 * low_count as f64 / muscle_pixels as f64),
            imat_cm2: imat,
            vat_cm2: vat,
            sat_cm2: sat,
            vat_sat_ratio: (sat > 0.0).then(|| vat / sat),
            indices: None,
            bmi: None,
            tissues,
        }
        .with_body(body)
    }

    /// The height indices and BMI for `body` (none without a height): a height joined
    /// from a clinical table after the measurement is applied as one typed in.
    pub fn with_body(mut self, body: &Anthropometry) -> Composition {
        self.indices = body.height.map(|h| {
            let h2 = h.metres * h.metres;
            Indices {
                smi: self.sma_cm2 / h2,
                imat: self.imat_cm2 / h2,
                vat: self.vat_cm2 / h2,
                sat: self.sat_cm2 / h2,
            }
        });
        self.bmi = body.bmi();
        self
    }
}

/// A yes/no call against a threshold, or why it could not be made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// `None` when the value or the threshold is missing.
    pub present: Option<bool>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub cutoffs: &'static str,
    pub source: Source,
    /// What is missing, in words, when `present` is `None`.
    pub needs: Vec<&'static str>,
}

impl Call {
    fn below(
        value: Option<f64>,
        value_needs: &'static str,
        threshold: Result<f64, Needs>,
        cutoffs: &'static str,
        source: Source,
    ) -> Call {
        let mut needs = Vec::new();
        if value.is_none() {
            needs.push(value_needs);
        }
        if let Err(n) = threshold {
            needs.push(n.words());
        }
        let threshold = threshold.ok();
        Call {
            present: value.zip(threshold).map(|(v, t)| v < t),
            value,
            threshold,
            cutoffs,
            source,
            needs,
        }
    }

    pub fn label(&self) -> &'static str {
        yes_no(self.present)
    }
}

/// A call as the page and the exports write it.
pub fn yes_no(call: Option<bool>) -> &'static str {
    match call {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

pub fn sarcopenia(c: &Composition, body: &Anthropometry, set: SmiCutoffs) -> Call {
    // No muscle on the slice is a failed or erased mask, not an SMI of zero.
    let has_muscle = c.sma_cm2 > 0.0;
    Call::below(
        c.indices.map(|i| i.smi).filter(|_| has_muscle),
        if has_muscle {
            "height"
        } else {
            "muscle on the slice"
        },
        set.threshold(body.sex, c.bmi),
        set.name(),
        set.source(),
    )
}

pub fn myosteatosis(c: &Composition, body: &Anthropometry, set: MyosteatosisCutoffs) -> Call {
    Call::below(
        c.muscle_hu,
        "muscle on the slice",
        set.threshold(body.sex, c.bmi),
        set.name(),
        set.source(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Millimetres;

    /// 10×10 slice at 0.8 mm: muscle 40 px (half at 10 HU, half at 50 HU), VAT 20,
    /// SAT 30, IMAT 5.
    fn case() -> (TissueMask, Vec<i16>) {
        let mut labels = vec![0u8; 100];
        let mut hu = vec![-1000i16; 100];
        for i in 0..40 {
            labels[i] = TissueClass::SkeletalMuscle.label();
            hu[i] = if i < 20 { 10 } else { 50 };
        }
        for i in 40..60 {
            labels[i] = TissueClass::Vat.label();
            hu[i] = -100;
        }
        for i in 60..90 {
            labels[i] = TissueClass::Sat.label();
            hu[i] = -100;
        }
        for i in 90..95 {
            labels[i] = TissueClass::Imat.label();
            hu[i] = -60;
        }
        (TissueMask::from_labels(10, 10, labels).unwrap(), hu)
    }

    #[test]
    fn areas_indices_and_ratios() {
        let (mask, hu) = case();
        let slice = AxialSlice::new(&hu, 10, 10, [Millimetres(0.8); 2]).unwrap();
        let body = Anthropometry {
            sex: Some(Sex::Female),
            height: Some(Height::new(1.6, HeightSource::Entered).unwrap()),
            weight_kg: Some(64.0),
        };
        let c = Composition::of(&mask, &slice, &body);
        let px = 0.64 / 100.0;
        assert!((c.sma_cm2 - 40.0 * px).abs() < 1e-12);
        assert!((c.muscle_hu.unwrap() - 30.0).abs() < 1e-12);
        assert!((c.low_attenuation_muscle_pct.unwrap() - 50.0).abs() < 1e-12);
        assert!((c.vat_sat_ratio.unwrap() - 20.0 / 30.0).abs() < 1e-12);
        let i = c.indices.unwrap();
        assert!((i.smi - 40.0 * px / 2.56).abs() < 1e-12);
        assert!((i.imat - 5.0 * px / 2.56).abs() < 1e-12);
        assert!((c.bmi.unwrap() - 25.0).abs() < 1e-12);
        // SMI is tiny here: sarcopenic under every set; mean HU 30 ≥ 28 for women.
        let s = sarcopenia(&c, &body, SmiCutoffs::Carey2017);
        assert_eq!((s.present, s.threshold), (Some(true), Some(39.0)));
        let m = myosteatosis(&c, &body, MyosteatosisCutoffs::Ebadi2022);
        assert_eq!((m.present, m.threshold), (Some(false), Some(28.0)));
        // Martin 2013: BMI 25 → 33 HU, so 30 HU is myosteatosis.
        let m = myosteatosis(&c, &body, MyosteatosisCutoffs::Martin2013);
        assert_eq!(m.present, Some(true));
    }

    #[test]
    fn nothing_is_called_without_height_or_sex() {
        let (mask, hu) = case();
        let slice = AxialSlice::new(&hu, 10, 10, [Millimetres(0.8); 2]).unwrap();
        let body = Anthropometry::default();
        let c = Composition::of(&mask, &slice, &body);
        assert!(c.indices.is_none() && c.bmi.is_none());
        let s = sarcopenia(&c, &body, SmiCutoffs::Carey2017);
        assert_eq!(s.present, None);
        assert_eq!(s.needs, vec!["height", "sex"]);
        assert!(Height::new(175.0, HeightSource::Entered).is_err());
        // An empty mask is not an SMI of zero.
        let empty = TissueMask::from_labels(10, 10, vec![0; 100]).unwrap();
        let tall = Anthropometry {
            sex: Some(Sex::Male),
            height: Some(Height::new(1.8, HeightSource::Entered).unwrap()),
            weight_kg: None,
        };
        let c = Composition::of(&empty, &slice, &tall);
        let s = sarcopenia(&c, &tall, SmiCutoffs::Carey2017);
        assert_eq!(
            (s.present, s.needs.clone()),
            (None, vec!["muscle on the slice"])
        );
        assert!(Anthropometry::checked_weight(7.0).is_err());
    }
}
