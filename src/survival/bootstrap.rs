//! Internal validation by the bootstrap (Efron & Tibshirani 1993; Harrell, *Regression
//! Modeling Strategies*, §5.3; as `rms::validate`): the model is refitted on B samples
//! drawn with replacement, each refit judged on its own sample and on the original
//! cohort; the mean difference is the optimism, and the apparent figures minus it are
//! what a new cohort from the same population should see. The draws come from a
//! documented, seeded generator (SplitMix64, `rng.rs`), so the browser and the command
//! line give identical results for the same seed.

use super::concordance::{concordance, TimeWeight};
use super::cox::{self, CoxError, CoxFit, Extent, Ties};
use super::design::Design;
use super::ipcw::Censoring;
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
    // The cohort in time order, and each sample's draws sorted: every sort after that
    // (the fit's risk sets, the censoring weights, the concordance) meets sorted data
    // and finishes in one pass — a fifth of a refit's time at 10,000 patients.
    let mut order: Vec<usize> = (0..design.rows()).collect();
    order.sort_by(|&a, &b| design.time[a].total_cmp(&design.time[b]));
    let design = &design.subset(&order);
    let fit = cox::fit_design(design, ties)?;
    let original = Judged::new(design, horizon);
    let apparent = original.indices(&fit, Slope::Fit);
    let mut rng = Rng::stream(seed, 0xB007);
    let (mut sum, mut done, mut failed) = ([0.0; 3], 0, 0);
    // A sample may fail to fit; draw another, but not forever.
    while done < b && failed <= 10 * b {
        let mut rows: Vec<usize> = (0..design.rows())
            .map(|_| rng.below(design.rows()))
            .collect();
        rows.sort_unstable();
        let sample = design.subset(&rows);
        // Each stratum's baseline is indexed by its level: a sample missing one is drawn
        // again, as is one the model cannot be fitted on.
        let all_strata = (0..design.strata_levels.len()).all(|s| sample.strata.contains(&s));
        let refit = match cox::fit_design_to(&sample, ties, Extent::Refit) {
            Ok(refit) if all_strata => refit,
            _ => {
                failed += 1;
                continue;
            }
        };
        let (own, there) = (
            Judged::new(&sample, horizon).indices(&refit, Slope::One),
            original.indices(&refit, Slope::Fit),
        );
        sum[0] += own.c - there.c;
        sum[1] += own.slope - there.slope;
        sum[2] += own.brier.unwrap_or(0.0) - there.brier.unwrap_or(0.0);
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

/// A cohort models are judged on, with what does not depend on the model worked out
/// once (the original cohort is judged at every refit).
struct Judged<'a> {
    design: &'a Design,
    event: Vec<bool>,
    /// The horizon of the Brier score and the censoring weights there.
    brier: Option<(f64, Censoring)>,
}

impl<'a> Judged<'a> {
    fn new(design: &'a Design, horizon: Option<f64>) -> Judged<'a> {
        let event = design.event_flags();
        let brier = horizon.map(|t| (t, Censoring::fit(&design.time, &event)));
        Judged {
            design,
            event,
            brier,
        }
    }

    /// C, slope and Brier of `fit`'s predictions; on the original cohort the slope
    /// measures shrinkage.
    fn indices(&self, fit: &CoxFit, slope: Slope) -> Indices {
        let (design, event) = (self.design, &self.event);
        let lp: Vec<f64> = (0..design.rows())
            .map(|i| fit.linear_predictor(design.row(i)))
            .collect();
        let c = concordance(&design.time, event, &lp, TimeWeight::Harrell, None)
            .map_or(f64::NAN, |c| c.c);
        let slope = match slope {
            Slope::One => 1.0,
            Slope::Fit => {
                super::calibration::slope(&design.time, event, &lp).map_or(f64::NAN, |s| s.slope)
            }
        };
        let brier = self.brier.as_ref().map(|(t, censoring)| {
            // H0(t) once per stratum, then each row's risk from its linear predictor.
            let h: Vec<f64> = fit.baseline.iter().map(|b| b.at(*t)).collect();
            let risk: Vec<f64> = (0..design.rows())
                .map(|i| 1.0 - (-h[design.strata[i]] * lp[i].exp()).exp())
                .collect();
            brier(&design.time, event, &risk, *t, censoring)
        });
        Indices { c, slope, brier }
    }
}
