//! Two methods measuring the same quantity on the same cases (the automatic SMA and a
//! reader's, two readers' SMI): the Bland–Altman limits of agreement and Lin's
//! concordance correlation coefficient.

use serde::{Deserialize, Serialize};

use super::{check_pairs, AgreementError, Interval, LEVEL};
use crate::stats::{mean, normal_quantile, t_quantile, variance};

/// How far apart two methods are, case by case (Bland & Altman, Lancet 1986): the mean
/// difference (bias) and the range holding 95 % of differences (bias ± 1.96 SD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlandAltman {
    pub cases: usize,
    /// Mean of first − second.
    pub bias: f64,
    /// Standard deviation of the differences.
    pub sd: f64,
    pub loa_lower: f64,
    pub loa_upper: f64,
    /// 95 % CIs of the bias and of each limit (Bland & Altman, Stat Methods Med Res 1999:
    /// t with n − 1 degrees of freedom; a limit's standard error √(3 SD² / n)), as
    /// BlandAltmanLeh's `bland.altman.stats` gives them.
    pub bias_ci: Interval,
    pub loa_lower_ci: Interval,
    pub loa_upper_ci: Interval,
}

/// The multiple of the SD that bounds the limits of agreement (Bland & Altman 1986 and
/// BlandAltmanLeh's default `two = 1.96`).
const LIMIT_SDS: f64 = 1.96;

impl BlandAltman {
    /// `first` and `second` are the two methods' measurements, case by case.
    pub fn of(first: &[f64], second: &[f64]) -> Result<BlandAltman, AgreementError> {
        let n = check_pairs(first, second, 3)?;
        let d: Vec<f64> = first.iter().zip(second).map(|(a, b)| a - b).collect();
        let (bias, sd) = (mean(&d), variance(&d).sqrt());
        let t = t_quantile(0.5 + LEVEL / 2.0, n as f64 - 1.0)
            .ok_or(AgreementError::TooFewCases { needed: 3, had: n })?;
        let around = |centre: f64, se: f64| Interval {
            lower: centre - t * se,
            upper: centre + t * se,
        };
        let (lower, upper) = (bias - LIMIT_SDS * sd, bias + LIMIT_SDS * sd);
        let se_limit = (3.0 * sd * sd / n as f64).sqrt();
        Ok(BlandAltman {
            cases: n,
            bias,
            sd,
            loa_lower: lower,
            loa_upper: upper,
            bias_ci: around(bias, sd / (n as f64).sqrt()),
            loa_lower_ci: around(lower, se_limit),
            loa_upper_ci: around(upper, se_limit),
        })
    }
}

/// Lin's concordance correlation coefficient (Lin, Biometrics 1989): the correlation of
/// the two methods penalised for any shift in location or scale — 1 only when every case
/// lies on the line of identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Concordance {
    pub cases: usize,
    pub ccc: f64,
    /// 95 % CI through Fisher's z-transformation of Lin's asymptotic standard error, as
    /// `epiR::epi.ccc(x, y, ci = "z-transform")` gives it.
    pub ci: Interval,
}

impl Concordance {
    pub fn of(first: &[f64], second: &[f64]) -> Result<Concordance, AgreementError> {
        let n = check_pairs(first, second, 3)?;
        let nf = n as f64;
        let (mx, my) = (mean(first), mean(second));
        // Lin's moments divide by n.
        let sx2 = variance(first) * (nf - 1.0) / nf;
        let sy2 = variance(second) * (nf - 1.0) / nf;
        if sx2 <= 0.0 || sy2 <= 0.0 {
            return Err(AgreementError::NoVariance);
        }
        let sxy = first
            .iter()
            .zip(second)
            .map(|(x, y)| (x - mx) * (y - my))
            .sum::<f64>()
            / nf;
        let r = sxy / (sx2 * sy2).sqrt();
        let p = 2.0 * sxy / (sx2 + sy2 + (my - mx).powi(2));
        if p >= 1.0 {
            return Ok(Concordance {
                cases: n,
                ccc: 1.0,
                ci: Interval {
                    lower: 1.0,
                    upper: 1.0,
                },
            });
        }
        if r == 0.0 {
            return Err(AgreementError::NoVariance);
        }
        let u = (my - mx) / (sx2 * sy2).powf(0.25);
        let se = (((1.0 - r * r) * p * p * (1.0 - p * p) / (r * r)
            + 2.0 * p.powi(3) * (1.0 - p) * u * u / r
            - 0.5 * p.powi(4) * u.powi(4) / (r * r))
            / (nf - 2.0))
            .sqrt();
        let z = normal_quantile(0.5 + LEVEL / 2.0);
        let (centre, se_z) = (p.atanh(), se / (1.0 - p * p));
        Ok(Concordance {
            cases: n,
            ccc: p,
            ci: Interval {
                lower: (centre - z * se_z).tanh(),
                upper: (centre + z * se_z).tanh(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_few_or_unpaired_or_missing_is_a_reason_not_a_number() {
        assert_eq!(
            BlandAltman::of(&[1.0, 2.0], &[1.0, 2.5]),
            Err(AgreementError::TooFewCases { needed: 3, had: 2 })
        );
        assert_eq!(
            Concordance::of(&[1.0, 2.0, 3.0], &[1.0, 2.0]),
            Err(AgreementError::Unpaired {
                first: 3,
                second: 2
            })
        );
        assert_eq!(
            Concordance::of(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]),
            Err(AgreementError::NotFinite)
        );
        assert_eq!(
            Concordance::of(&[2.0; 4], &[1.0, 2.0, 3.0, 4.0]),
            Err(AgreementError::NoVariance)
        );
        let same = Concordance::of(&[1.0, 2.0, 4.0], &[1.0, 2.0, 4.0]).unwrap();
        assert_eq!(same.ccc, 1.0);
    }
}
