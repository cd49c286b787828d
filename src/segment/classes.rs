//! The four tissues body-composition analysis measures at L3, and the label values that
//! stand for them in masks, PNG exports and the network's output channels.

use serde::{Deserialize, Serialize};

/// One label of a [`TissueMask`](super::TissueMask). The numbering is the exported
/// format (0 background, 1 muscle, 2 IMAT, 3 VAT, 4 SAT) and equals the channel order of
/// the network's output, so it must never change.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum TissueClass {
    /// Anything that is none of the four: air, organs, bone, bowel, fluid.
    #[default]
    Background = 0,
    SkeletalMuscle = 1,
    /// Intermuscular and intramuscular adipose tissue: fat inside the muscle boundary.
    Imat = 2,
    /// Visceral adipose tissue: fat inside the abdominal cavity and retroperitoneum.
    Vat = 3,
    /// Subcutaneous adipose tissue: fat outside the muscle wall.
    Sat = 4,
}

impl TissueClass {
    pub const ALL: [TissueClass; 5] = [
        TissueClass::Background,
        TissueClass::SkeletalMuscle,
        TissueClass::Imat,
        TissueClass::Vat,
        TissueClass::Sat,
    ];

    /// The four measured tissues, without background.
    pub const TISSUES: [TissueClass; 4] = [
        TissueClass::SkeletalMuscle,
        TissueClass::Imat,
        TissueClass::Vat,
        TissueClass::Sat,
    ];

    pub const COUNT: usize = 5;

    pub fn label(self) -> u8 {
        self as u8
    }

    pub fn from_label(label: u8) -> Option<TissueClass> {
        TissueClass::ALL.get(usize::from(label)).copied()
    }

    /// A short machine name, used as a JSON key and in model cards.
    pub fn key(self) -> &'static str {
        match self {
            TissueClass::Background => "background",
            TissueClass::SkeletalMuscle => "muscle",
            TissueClass::Imat => "imat",
            TissueClass::Vat => "vat",
            TissueClass::Sat => "sat",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TissueClass::Background => "background",
            TissueClass::SkeletalMuscle => "skeletal muscle",
            TissueClass::Imat => "intermuscular fat (IMAT)",
            TissueClass::Vat => "visceral fat (VAT)",
            TissueClass::Sat => "subcutaneous fat (SAT)",
        }
    }
}
