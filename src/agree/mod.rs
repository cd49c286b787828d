//! How well the automatic measurement agrees with expert readers, and readers with each
//! other: the figures a validation study reports, computed as the R packages a
//! statistician would check them with (each module names its package and function; the
//! tests hold R's values from `scripts/agreement_reference.R`).
//!
//! Per case, on the masks: [`overlap`] (Dice, Jaccard, 95th-percentile Hausdorff distance,
//! areas). Across cases, on the measurements: [`paired`] (Bland–Altman, Lin's
//! concordance), [`icc`] (intraclass correlation), and on the calls [`calls`] (Cohen's
//! kappa, sensitivity, specificity).

pub mod calls;
pub mod case;
pub mod icc;
pub mod overlap;
pub mod paired;
pub mod reference;
pub mod seg;
pub mod session;
pub mod study;
pub mod tag;

/// Why an agreement figure cannot be given, in words for the study's report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AgreementError {
    #[error("{needed} cases with both measurements are needed, {had} given")]
    TooFewCases { needed: usize, had: usize },
    #[error("the two measurements do not pair up ({first} values and {second})")]
    Unpaired { first: usize, second: usize },
    #[error("a measurement is missing or not a number")]
    NotFinite,
    #[error(
        "the measurements do not vary across cases, so agreement beyond that cannot be estimated"
    )]
    NoVariance,
}

/// A two-sided 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

/// The 95 % level of every interval here (R's default `conf.level = 0.95`, `alpha = 0.05`).
pub const LEVEL: f64 = 0.95;

/// Checks two paired measurement vectors: same length, at least `needed`, all finite.
fn check_pairs(x: &[f64], y: &[f64], needed: usize) -> Result<usize, AgreementError> {
    if x.len() != y.len() {
        return Err(AgreementError::Unpaired {
            first: x.len(),
            second: y.len(),
        });
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(AgreementError::NotFinite);
    }
    if x.len() < needed {
        return Err(AgreementError::TooFewCases {
            needed,
            had: x.len(),
        });
    }
    Ok(x.len())
}
