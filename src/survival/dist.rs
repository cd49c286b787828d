//! The two distributions the tests and intervals need, from `statrs`.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// The standard normal quantile (`qnorm(p)`).
pub fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// The upper tail of the standard normal (`pnorm(z, lower.tail = FALSE)`).
pub fn normal_upper(z: f64) -> f64 {
    Normal::standard().sf(z)
}

/// The upper tail of the chi-square distribution (`pchisq(x, df, lower.tail = FALSE)`);
/// `None` for zero degrees of freedom.
pub fn chisq_upper(x: f64, df: usize) -> Option<f64> {
    let dist = ChiSquared::new(df as f64).ok()?;
    Some(dist.sf(x.max(0.0)))
}
