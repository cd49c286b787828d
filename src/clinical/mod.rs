//! Clinical scores and study eligibility from laboratory values: MELD family,
//! Child–Pugh, ALBI, APRI, FIB-4, MELD-Sarcopenia (with the CT's sarcopenia call) and
//! the NCT06531200 criteria. Formulas and test vectors: `shared/reference/CLINICAL.md`.

pub mod albi;
pub mod child_pugh;
pub mod eligibility;
pub mod fibrosis;
pub mod labs;
pub mod meld;
pub mod scores;
pub mod table;

pub use crate::sex::Sex;
pub use labs::{Ascites, ClinicalError, Encephalopathy, Lab, Labs, Units};
pub use scores::{ClinicalInputs, Missing, ScoreSheet};
