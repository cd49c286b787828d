//! Intraclass correlation: how much of the spread of a measurement across cases is the
//! cases' own (not the raters'), from the two-way analysis of variance of a cases ×
//! raters table (Shrout & Fleiss, Psychol Bull 1979; McGraw & Wong, Psychol Methods
//! 1996), as `psych::ICC(ratings, lmer = FALSE)` computes it, intervals included.

use serde::{Deserialize, Serialize};

use super::{AgreementError, Interval, LEVEL};
use crate::stats::{f_quantile, f_upper};

/// One ICC form with its F test against zero and its 95 % CI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IccEstimate {
    pub icc: f64,
    pub ci: Interval,
    pub f: f64,
    pub df1: f64,
    pub df2: f64,
    pub p: f64,
}

/// The single-rater forms. `icc_2_1` (two-way random, absolute agreement) is the one a
/// method-comparison study reports: a systematic offset between raters lowers it;
/// `icc_3_1` (two-way mixed, consistency) ignores such an offset; `icc1` (one-way) treats
/// raters as interchangeable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Icc {
    pub cases: usize,
    pub raters: usize,
    pub icc1: IccEstimate,
    pub icc_2_1: IccEstimate,
    pub icc_3_1: IccEstimate,
}

impl Icc {
    /// `ratings[case][rater]`: every case rated by every rater.
    pub fn of(ratings: &[Vec<f64>]) -> Result<Icc, AgreementError> {
        let n = ratings.len();
        let k = ratings.first().map_or(0, Vec::len);
        if let Some(row) = ratings.iter().find(|r| r.len() != k) {
            return Err(AgreementError::Unpaired {
                first: k,
                second: row.len(),
            });
        }
        if ratings.iter().flatten().any(|v| !v.is_finite()) {
            return Err(AgreementError::NotFinite);
        }
        if k < 2 {
            return Err(AgreementError::Unpaired {
                first: k,
                second: 2,
            });
        }
        if n < 3 {
            return Err(AgreementError::TooFewCases { needed: 3, had: n });
        }
        let (nf, kf) = (n as f64, k as f64);
        let grand = ratings.iter().flatten().sum::<f64>() / (nf * kf);
        let case_mean = |r: &Vec<f64>| r.iter().sum::<f64>() / kf;
        let rater_mean = |j: usize| ratings.iter().map(|r| r[j]).sum::<f64>() / nf;
        let ss_total: f64 = ratings.iter().flatten().map(|v| (v - grand).powi(2)).sum();
        let ss_cases: f64 = kf
            * ratings
                .iter()
                .map(|r| (case_mean(r) - grand).powi(2))
                .sum::<f64>();
        let ss_raters: f64 = nf * (0..k).map(|j| (rater_mean(j) - grand).powi(2)).sum::<f64>();
        let ss_error = ss_total - ss_cases - ss_raters;
        let msb = ss_cases / (nf - 1.0);
        let msj = ss_raters / (kf - 1.0);
        let mse = ss_error / ((nf - 1.0) * (kf - 1.0));
        let msw = (ss_raters + ss_error) / (nf * (kf - 1.0));
        if mse <= 0.0 || msw <= 0.0 {
            return Err(AgreementError::NoVariance);
        }
        let q = 0.5 + LEVEL / 2.0;
        let qf = |d1: f64, d2: f64| f_quantile(q, d1, d2).ok_or(AgreementError::NoVariance);

        // One-way (ICC1) and two-way mixed consistency (ICC3,1): exact F intervals.
        let exact_f =
            |f: f64, df1: f64, df2: f64, icc: f64| -> Result<IccEstimate, AgreementError> {
                let lower_f = f / qf(df1, df2)?;
                let upper_f = f * qf(df2, df1)?;
                Ok(IccEstimate {
                    icc,
                    ci: Interval {
                        lower: (lower_f - 1.0) / (lower_f + kf - 1.0),
                        upper: (upper_f - 1.0) / (upper_f + kf - 1.0),
                    },
                    f,
                    df1,
                    df2,
                    p: f_upper(f, df1, df2).ok_or(AgreementError::NoVariance)?,
                })
            };
        let (df_cases, df_error) = (nf - 1.0, (nf - 1.0) * (kf - 1.0));
        let icc1 = exact_f(
            msb / msw,
            df_cases,
            nf * (kf - 1.0),
            (msb - msw) / (msb + (kf - 1.0) * msw),
        )?;
        let icc_3_1 = exact_f(
            msb / mse,
            df_cases,
            df_error,
            (msb - mse) / (msb + (kf - 1.0) * mse),
        )?;

        // Two-way random absolute agreement (ICC2,1): Satterthwaite's degrees of freedom
        // for the interval (McGraw & Wong 1996, table 7).
        let icc2 = (msb - mse) / (msb + (kf - 1.0) * mse + kf * (msj - mse) / nf);
        let fj = msj / mse;
        let a = nf * (1.0 + (kf - 1.0) * icc2) - kf * icc2;
        let v = (kf - 1.0) * (nf - 1.0) * (kf * icc2 * fj + a).powi(2)
            / ((nf - 1.0) * kf * kf * icc2 * icc2 * fj * fj + a * a);
        let (upper_f, lower_f) = (qf(nf - 1.0, v)?, qf(v, nf - 1.0)?);
        let spread = kf * msj + (kf * nf - kf - nf) * mse;
        let icc_2_1 = IccEstimate {
            icc: icc2,
            ci: Interval {
                lower: nf * (msb - upper_f * mse) / (upper_f * spread + nf * msb),
                upper: nf * (lower_f * msb - mse) / (spread + nf * lower_f * msb),
            },
            ..icc_3_1.clone()
        };
        Ok(Icc {
            cases: n,
            raters: k,
            icc1,
            icc_2_1,
            icc_3_1,
        })
    }
}
