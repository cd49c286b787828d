//! Internal validation by the bootstrap (Efron & Tibshirani 1993; Harrell, *Regression
//! Modeling Strategies*, §5.3; as `rms::validate`): the model is refitted on B samples
//! drawn with replacement, each refit judged on its own sample and on the original
//! cohort; the mean difference is the optimism, and the apparent figures minus it are
//! what a new cohort from the same population should see. The draws come from a
//! documented, seeded generator (SplitMix64, `rng.rs`), so the browser and the command
//! line give identical results for the same seed.

use super::concordance::{concordance, TimeWeight};
use super::cox::{self, CoxError, CoxFit, Ties};
use super::design::Design;
use super::performance::brier;
use crate::rng::Rng;

/// The figures validated: Harrell's C, the calibration slope and, at a horizon, the
/// Brier score (IPCW).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Indices {
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub c: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub slope: f64,
    pub brier: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Optimism {
    pub apparent: Indices,
    /// Mean over the refits of (on their own sample − on the original cohort).
    pub optimism: Indices,
    pub corrected: Indices,
    /// Refits used, and those that failed (a sample without events, or a covariate
    /// constant in it) and were drawn again.
    pub b: usize,
    pub failed: usize,
    pub seed: u64,
}

/// What `progress` is told after each refit: done of total. Returning false stops the
/// run (cancel); the result is then `None`.
pub fn optimism(
    design: &Design,
    ties: Ties,
    horizon: Option<f64>,
    b: usize,
    seed: u64,
    mut progress: impl FnMut(usize, usize) -> bool,
) -> Result<Option<Optimism>, CoxError> {
    let fit = cox::fit_design(design, ties)?;
    let apparent = indices(&fit, design, horizon, Slope::Fit);
    let mut rng = Rng::stream(seed, 0xB007);
    let (mut sum, mut done, mut failed) = ([0.0; 3], 0, 0);
    // A sample may fail to fit; draw another, but not forever.
    while done < b && failed <= 10 * b {
        let rows: Vec<usize> = (0..design.rows())
            .map(|_| rng.below(design.rows()))
            .collect();
        let sample = design.subset(&rows);
        // Each stratum's baseline is indexed by its level: a sample missing one is drawn
        // again, as is one the model cannot be fitted on.
        let all_strata = (0..design.strata_levels.len()).all(|s| sample.strata.contains(&s));
        let refit = match cox::fit_design(&sample, ties) {
            Ok(refit) if all_strata => refit,
            _ => {
                failed += 1;
                continue;
            }
        };
        let (own, original) = (
            indices(&refit, &sample, horizon, Slope::One),
            indices(&refit, design, horizon, Slope::Fit),
        );
        sum[0] += own.c - original.c;
        sum[1] += own.slope - original.slope;
        sum[2] += own.brier.unwrap_or(0.0) - original.brier.unwrap_or(0.0);
        done += 1;
        if !progress(done, b) {
            return Ok(None);
        }
    }
    let n = done.max(1) as f64;
    let optimism = Indices {
        c: sum[0] / n,
        slope: sum[1] / n,
        brier: apparent.brier.map(|_| sum[2] / n),
    };
    Ok(Some(Optimism {
        apparent,
        corrected: Indices {
            c: apparent.c - optimism.c,
            slope: apparent.slope - optimism.slope,
            brier: apparent.brier.zip(optimism.brier).map(|(a, o)| a - o),
        },
        optimism,
        b: done,
        failed,
        seed,
    }))
}

/// Whether the calibration slope is fitted or known.
enum Slope {
    Fit,
    /// On the sample a model was fitted on, its slope is 1 by construction (the Cox
    /// estimate maximises the likelihood along its own linear predictor too): the
    /// refit that would say so is skipped, a fifth of a refit's time.
    One,
}

/// C, slope and Brier of `fit`'s predictions on `design`'s rows; on the original cohort
/// the slope measures shrinkage.
fn indices(fit: &CoxFit, design: &Design, horizon: Option<f64>, slope: Slope) -> Indices {
    let event = design.event_flags();
    let lp: Vec<f64> = (0..design.rows())
        .map(|i| fit.linear_predictor(design.row(i)))
        .collect();
    let c =
        concordance(&design.time, &event, &lp, TimeWeight::Harrell, None).map_or(f64::NAN, |c| c.c);
    let slope = match slope {
        Slope::One => 1.0,
        Slope::Fit => {
            super::calibration::slope(&design.time, &event, &lp).map_or(f64::NAN, |s| s.slope)
        }
    };
    let brier = horizon.map(|t| {
        let risk: Vec<f64> = (0..design.rows())
            .map(|i| 1.0 - fit.survival(design.row(i), design.strata[i], t))
            .collect();
        let censoring = super::ipcw::Censoring::fit(&design.time, &event);
        brier(&design.time, &event, &risk, t, &censoring)
    });
    Indices { c, slope, brier }
}
