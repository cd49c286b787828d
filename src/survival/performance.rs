//! How well predicted risks by a horizon t match what happened, with censoring handled
//! by inverse probability weights ([`Censoring`], G):
//!
//! - time-dependent AUC, cumulative/dynamic (cases: event by t, weighted 1/G(Tᵢ−);
//!   controls: still event-free after t), as `timeROC(weighting = "marginal")` and
//!   `riskRegression::Score` (Heagerty, Lumley & Pepe, Biometrics 2000;56:337; Blanche,
//!   Dartigues & Jacqmin-Gadda, Stat Med 2013;32:5381);
//! - the Brier score (Graf et al., Stat Med 1999;18:2529) with the null model (everyone
//!   given the cohort's Kaplan–Meier risk), IPA = 1 − Brier/Brier_null (Kattan & Gerds,
//!   Diagn Progn Res 2018;2:7), and the integrated Brier score up to τ.

use super::ipcw::Censoring;
use super::km::KaplanMeier;

/// The cumulative/dynamic AUC at `t` of `risk` (the predicted probability of the event
/// by `t`, or any score where higher means sooner). `None` without a case or a control.
pub fn auc(
    time: &[f64],
    event: &[bool],
    risk: &[f64],
    t: f64,
    censoring: &Censoring,
) -> Option<f64> {
    let n = time.len();
    let cases: Vec<usize> = (0..n).filter(|&i| event[i] && time[i] <= t).collect();
    let mut controls: Vec<f64> = (0..n).filter(|&j| time[j] > t).map(|j| risk[j]).collect();
    if cases.is_empty() || controls.is_empty() {
        return None;
    }
    // Controls all weigh 1/G(t): the weight cancels in the ratio.
    controls.sort_by(f64::total_cmp);
    let (mut num, mut den) = (0.0, 0.0);
    for &i in &cases {
        let w = 1.0 / censoring.before(time[i]);
        let below = controls.partition_point(|&c| c < risk[i]) as f64;
        let equal = controls.partition_point(|&c| c <= risk[i]) as f64 - below;
        num += w * (below + equal / 2.0);
        den += w * controls.len() as f64;
    }
    Some(num / den)
}

/// The IPCW Brier score at `t` of predicted event probabilities `risk`.
pub fn brier(time: &[f64], event: &[bool], risk: &[f64], t: f64, censoring: &Censoring) -> f64 {
    let g_t = censoring.at(t);
    let total: f64 = (0..time.len())
        .map(|i| {
            if time[i] <= t && event[i] {
                (1.0 - risk[i]).powi(2) / censoring.before(time[i])
            } else if time[i] > t {
                risk[i].powi(2) / g_t
            } else {
                0.0 // censored before t: carried by the weights of the others
            }
        })
        .sum();
    total / time.len() as f64
}

/// A model's Brier score beside the null model's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BrierScore {
    pub time: f64,
    pub brier: f64,
    /// Everyone given 1 − KM(t) of the same cohort.
    pub brier_null: f64,
    /// Index of prediction accuracy, 1 − brier / brier_null.
    pub ipa: f64,
}

pub fn brier_with_null(
    time: &[f64],
    event: &[bool],
    risk: &[f64],
    t: f64,
    censoring: &Censoring,
) -> BrierScore {
    let km = KaplanMeier::fit(time, event);
    let null_risk = vec![1.0 - km.surv_at(t); time.len()];
    let model = brier(time, event, risk, t, censoring);
    let null = brier(time, event, &null_risk, t, censoring);
    BrierScore {
        time: t,
        brier: model,
        brier_null: null,
        ipa: 1.0 - model / null,
    }
}

/// The integrated Brier score over (0, τ]: (1/τ)·∫ Brier(t) dt of the step function,
/// exactly (on every observed time up to τ, as `Score(…, summary = "ibs")` with that
/// grid). `risk_at(i, t)` is row i's predicted event probability by t.
pub fn integrated_brier(
    time: &[f64],
    event: &[bool],
    tau: f64,
    censoring: &Censoring,
    risk_at: impl Fn(usize, f64) -> f64,
) -> f64 {
    let mut grid: Vec<f64> = time.iter().copied().filter(|&t| t <= tau).collect();
    grid.push(tau);
    grid.sort_by(f64::total_cmp);
    grid.dedup();
    let mut total = 0.0;
    for w in grid.windows(2) {
        let risk: Vec<f64> = (0..time.len()).map(|i| risk_at(i, w[0])).collect();
        total += brier(time, event, &risk, w[0], censoring) * (w[1] - w[0]);
    }
    total / tau
}
