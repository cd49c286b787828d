//! The distributions, quantiles and moments the statistics need, each as R computes it,
//! so that a figure can be checked against the R call named beside it. The distributions
//! are `statrs`'s.

use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, Normal, StudentsT};

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

/// Student's t quantile (`qt(p, df)`); `None` unless df > 0.
pub fn t_quantile(p: f64, df: f64) -> Option<f64> {
    Some(StudentsT::new(0.0, 1.0, df).ok()?.inverse_cdf(p))
}

/// The F quantile (`qf(p, df1, df2)`); `None` unless both degrees of freedom are > 0.
pub fn f_quantile(p: f64, df1: f64, df2: f64) -> Option<f64> {
    Some(FisherSnedecor::new(df1, df2).ok()?.inverse_cdf(p))
}

/// The upper tail of the F distribution (`pf(x, df1, df2, lower.tail = FALSE)`).
pub fn f_upper(x: f64, df1: f64, df2: f64) -> Option<f64> {
    Some(FisherSnedecor::new(df1, df2).ok()?.sf(x.max(0.0)))
}

/// R's default quantile (type 7) of sorted values.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The sample variance (n − 1 denominator, R's `var`).
pub fn variance(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)
}
