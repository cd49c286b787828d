//! The Alberta protocol's Hounsfield-unit windows, applied after the network.
//!
//! The network says which compartment a pixel belongs to; attenuation then decides
//! whether it counts as that tissue. This is how body composition at L3 is defined in
//! the literature the cut-offs come from, so areas stay comparable with them.
//!
//! Source: Mitsiopoulos N, et al. Cadaver validation of skeletal muscle measurement by
//! magnetic resonance imaging and computerized tomography. J Appl Physiol
//! 1998;85:115–122 (muscle −29 to +150 HU; adipose −190 to −30 HU), and Mourtzakis M,
//! et al. Appl Physiol Nutr Metab 2008;33:997–1006 (the Alberta protocol at L3; visceral
//! fat −150 to −50 HU). As listed in `../shared/reference/CLINICAL.md`.

use serde::{Deserialize, Serialize};

use super::{TissueClass, TissueMask};
use crate::units::Hu;

/// An inclusive HU range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HuRange {
    pub low: Hu,
    pub high: Hu,
}

impl HuRange {
    pub const fn new(low: f64, high: f64) -> HuRange {
        HuRange {
            low: Hu(low),
            high: Hu(high),
        }
    }

    pub fn contains(&self, hu: f64) -> bool {
        hu >= self.low.0 && hu <= self.high.0
    }
}

/// The window each tissue must fall in; configurable, defaults from the Alberta
/// protocol (see the module documentation for the sources).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HuWindows {
    pub muscle: HuRange,
    pub imat: HuRange,
    pub vat: HuRange,
    pub sat: HuRange,
}

impl Default for HuWindows {
    fn default() -> HuWindows {
        HuWindows::ALBERTA
    }
}

impl HuWindows {
    /// Muscle −29..150 HU, IMAT and SAT −190..−30 HU (Mitsiopoulos 1998), VAT −150..−50
    /// HU (Mourtzakis 2008).
    pub const ALBERTA: HuWindows = HuWindows {
        muscle: HuRange::new(-29.0, 150.0),
        imat: HuRange::new(-190.0, -30.0),
        vat: HuRange::new(-150.0, -50.0),
        sat: HuRange::new(-190.0, -30.0),
    };

    pub const CITATION: &'static str = "HU windows: Mitsiopoulos et al., J Appl Physiol 1998;85:115–122 (muscle −29…150, fat −190…−30); Mourtzakis et al., Appl Physiol Nutr Metab 2008;33:997–1006 (VAT −150…−50)";

    pub fn of(&self, class: TissueClass) -> Option<HuRange> {
        match class {
            TissueClass::Background => None,
            TissueClass::SkeletalMuscle => Some(self.muscle),
            TissueClass::Imat => Some(self.imat),
            TissueClass::Vat => Some(self.vat),
            TissueClass::Sat => Some(self.sat),
        }
    }

    /// The tissue a pixel the network put in `class` counts as, given its HU. Fat inside
    /// the muscle boundary is intermuscular fat by definition, so a muscle-labelled
    /// pixel in the IMAT window becomes IMAT (and the reverse, an IMAT-labelled pixel in
    /// the muscle window, muscle); anything else outside its window is background.
    pub fn decide(&self, class: TissueClass, hu: f64) -> TissueClass {
        match class {
            TissueClass::SkeletalMuscle | TissueClass::Imat => {
                if self.muscle.contains(hu) {
                    TissueClass::SkeletalMuscle
                } else if self.imat.contains(hu) {
                    TissueClass::Imat
                } else {
                    TissueClass::Background
                }
            }
            TissueClass::Background => TissueClass::Background,
            other => match self.of(other) {
                Some(range) if range.contains(hu) => other,
                _ => TissueClass::Background,
            },
        }
    }

    /// Applies [`HuWindows::decide`] to every pixel; `hu` is the slice the mask lies on.
    pub fn apply(&self, mask: &mut TissueMask, hu: &[i16]) {
        for (i, &value) in hu.iter().enumerate().take(mask.columns * mask.rows) {
            let class = TissueClass::from_label(mask.labels()[i]).unwrap_or_default();
            mask.set(i, self.decide(class, f64::from(value)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fat_inside_muscle_is_imat_and_out_of_window_is_background() {
        let w = HuWindows::ALBERTA;
        assert_eq!(
            w.decide(TissueClass::SkeletalMuscle, 40.0),
            TissueClass::SkeletalMuscle
        );
        assert_eq!(
            w.decide(TissueClass::SkeletalMuscle, -29.0),
            TissueClass::SkeletalMuscle
        );
        assert_eq!(
            w.decide(TissueClass::SkeletalMuscle, -30.0),
            TissueClass::Imat
        );
        assert_eq!(
            w.decide(TissueClass::SkeletalMuscle, 151.0),
            TissueClass::Background
        );
        assert_eq!(
            w.decide(TissueClass::Imat, 10.0),
            TissueClass::SkeletalMuscle
        );
        assert_eq!(w.decide(TissueClass::Vat, -40.0), TissueClass::Background);
        assert_eq!(w.decide(TissueClass::Vat, -150.0), TissueClass::Vat);
        assert_eq!(w.decide(TissueClass::Sat, -191.0), TissueClass::Background);
        assert_eq!(
            w.decide(TissueClass::Background, -100.0),
            TissueClass::Background
        );
    }
}
