//! Two methods making the same yes/no call on the same cases (sarcopenia, myosteatosis):
//! Cohen's kappa, and the test method's sensitivity and specificity against the reference.

use serde::{Deserialize, Serialize};

use super::{AgreementError, Interval, LEVEL};
use crate::stats::normal_quantile;

/// Agreement on a binary call between a test method (usually automatic) and a reference
/// (usually a reader).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallAgreement {
    pub cases: usize,
    /// Cases by (test, reference): both yes, test only, reference only, both no.
    pub both_yes: usize,
    pub test_only: usize,
    pub reference_only: usize,
    pub both_no: usize,
    /// Cohen's kappa (Cohen, Educ Psychol Meas 1960): agreement beyond chance.
    pub kappa: f64,
    /// Its large-sample variance (Fleiss, Cohen & Everitt, Psychol Bull 1969) and the 95 %
    /// CI kappa ± z·√variance cut to [−1, 1], as `psych::cohen.kappa` gives them.
    pub variance: f64,
    pub ci: Interval,
    /// Of the reference's yes calls, the share the test also calls yes; `None` when the
    /// reference has none.
    pub sensitivity: Option<f64>,
    /// Of the reference's no calls, the share the test also calls no.
    pub specificity: Option<f64>,
}

impl CallAgreement {
    pub fn of(test: &[bool], reference: &[bool]) -> Result<CallAgreement, AgreementError> {
        if test.len() != reference.len() {
            return Err(AgreementError::Unpaired {
                first: test.len(),
                second: reference.len(),
            });
        }
        let n = test.len();
        if n < 2 {
            return Err(AgreementError::TooFewCases { needed: 2, had: n });
        }
        let count = |t: bool, r: bool| {
            test.iter()
                .zip(reference)
                .filter(|(&a, &b)| a == t && b == r)
                .count()
        };
        let (yy, yn, ny, nn) = (
            count(true, true),
            count(true, false),
            count(false, true),
            count(false, false),
        );
        // Proportions: p[test][reference], index 0 = yes.
        let nf = n as f64;
        let p = [
            [yy as f64 / nf, yn as f64 / nf],
            [ny as f64 / nf, nn as f64 / nf],
        ];
        let row = [p[0][0] + p[0][1], p[1][0] + p[1][1]];
        let col = [p[0][0] + p[1][0], p[0][1] + p[1][1]];
        let observed = p[0][0] + p[1][1];
        let chance = row[0] * col[0] + row[1] * col[1];
        if chance >= 1.0 {
            // Both methods gave one and the same call to every case.
            return Err(AgreementError::NoVariance);
        }
        let kappa = (observed - chance) / (1.0 - chance);
        let mut sum = 0.0;
        for i in 0..2 {
            for j in 0..2 {
                sum += if i == j {
                    p[i][i] * ((1.0 - chance) - (row[i] + col[i]) * (1.0 - observed)).powi(2)
                } else {
                    p[i][j] * (1.0 - observed).powi(2) * (col[i] + row[j]).powi(2)
                };
            }
        }
        let variance = ((sum - (observed * chance - 2.0 * chance + observed).powi(2))
            / (nf * (1.0 - chance).powi(4)))
        .max(0.0);
        let z = normal_quantile(0.5 + LEVEL / 2.0);
        let share =
            |hit: usize, miss: usize| (hit + miss > 0).then(|| hit as f64 / (hit + miss) as f64);
        Ok(CallAgreement {
            cases: n,
            both_yes: yy,
            test_only: yn,
            reference_only: ny,
            both_no: nn,
            kappa,
            variance,
            ci: Interval {
                lower: (kappa - z * variance.sqrt()).clamp(-1.0, 1.0),
                upper: (kappa + z * variance.sqrt()).clamp(-1.0, 1.0),
            },
            sensitivity: share(yy, ny),
            specificity: share(nn, yn),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_call_for_everyone_has_no_kappa() {
        assert_eq!(
            CallAgreement::of(&[true; 5], &[true; 5]),
            Err(AgreementError::NoVariance)
        );
        let perfect = CallAgreement::of(&[true, false, true], &[true, false, true]).unwrap();
        assert_eq!(
            (perfect.kappa, perfect.sensitivity, perfect.specificity),
            (1.0, Some(1.0), Some(1.0))
        );
    }
}
