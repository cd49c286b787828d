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
//!
//! The AUC and the Brier score come with the standard error of their influence function,
//! which counts that G is estimated too (Blanche, Dartigues & Jacqmin-Gadda 2013,
//! appendix): `timeROC(…, weighting = "marginal", iid = TRUE)$inference$vect_sd_1` and
//! `riskRegression::Score(…, cens.model = "km", se.fit = TRUE)`. Both are sd(IF)/√n.

use super::ipcw::{Censoring, Read};
use super::km::KaplanMeier;

/// sd(IF)/√n, the sample standard deviation as R's `sd` (n − 1); NaN below two subjects.
fn standard_error(influence: &[f64]) -> f64 {
    let n = influence.len() as f64;
    let mean = influence.iter().sum::<f64>() / n;
    let ss: f64 = influence.iter().map(|x| (x - mean).powi(2)).sum();
    (ss / (n - 1.0) / n).sqrt()
}

/// A time-dependent AUC and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Auc {
    pub auc: f64,
    pub se: f64,
}

/// The cumulative/dynamic AUC at `t` of `risk` (the predicted probability of the event
/// by `t`, or any score where higher means sooner), with its standard error. `None`
/// without a case or a control.
///
/// The influence function of subject k, with cases i weighted wᵢ = 1/G(Tᵢ−) (W their
/// sum), m controls (1/G(t) is common to them all and cancels), cᵢ the controls case i
/// outranks (ties ½) and aₖ the weight of the cases that outrank control k (ties ½):
///
/// IFₖ = n·vₖ/W + n·[k a control]·(aₖ/W − AUC)/m + Σᵢ vᵢ·ψₖ(Tᵢ−)/W,
/// vᵢ = wᵢ·(cᵢ/m − AUC) for a case, 0 otherwise,
///
/// ψ the censoring's influence ([`Censoring::influence`]). It is timeROC's iid
/// representation (`compute_iid_decomposition`) regrouped, and equals `Score`'s to
/// ~1e−15 on `pbc`. timeROC takes tied times one row at a time, in the order of its
/// input: on `pbc` (a death and a censoring at day 1434) that puts its 5-year SE 8e−7
/// (relative) above this one, or 7e−8 below with the rows in reverse order.
pub fn auc(
    time: &[f64],
    event: &[bool],
    risk: &[f64],
    t: f64,
    censoring: &Censoring,
) -> Option<Auc> {
    let n = time.len();
    let cases: Vec<usize> = (0..n).filter(|&i| event[i] && time[i] <= t).collect();
    let mut controls: Vec<f64> = (0..n).filter(|&j| time[j] > t).map(|j| risk[j]).collect();
    if cases.is_empty() || controls.is_empty() {
        return None;
    }
    controls.sort_by(f64::total_cmp);
    let m = controls.len() as f64;
    // Each case's weight and the controls it outranks.
    let outranks = |r: f64| {
        let below = controls.partition_point(|&c| c < r) as f64;
        let equal = controls.partition_point(|&c| c <= r) as f64 - below;
        below + equal / 2.0
    };
    let scored: Vec<(f64, f64)> = cases
        .iter()
        .map(|&i| (1.0 / censoring.before(time[i]), outranks(risk[i])))
        .collect();
    let total: f64 = scored.iter().map(|(w, _)| w).sum();
    let auc = scored.iter().map(|(w, c)| w * c).sum::<f64>() / (total * m);

    // Cases by risk, with the running sum of their weights, for aₖ.
    let mut by_risk: Vec<(f64, f64)> = cases
        .iter()
        .zip(&scored)
        .map(|(&i, &(w, _))| (risk[i], w))
        .collect();
    by_risk.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut running = vec![0.0; by_risk.len() + 1];
    for (k, &(_, w)) in by_risk.iter().enumerate() {
        running[k + 1] = running[k] + w;
    }
    let outranked_by = |r: f64| {
        let below = by_risk.partition_point(|c| c.0 < r);
        let through = by_risk.partition_point(|c| c.0 <= r);
        (running[by_risk.len()] - running[through]) + (running[through] - running[below]) / 2.0
    };
    let mut v = vec![0.0; n];
    let mut terms = Vec::with_capacity(cases.len());
    for (&i, &(w, c)) in cases.iter().zip(&scored) {
        v[i] = w * (c / m - auc);
        terms.push((Read::Before(time[i]), v[i]));
    }
    let through_g = censoring.influence(&terms);
    let nf = n as f64;
    let influence: Vec<f64> = (0..n)
        .map(|k| {
            let as_control = if time[k] > t {
                nf * (outranked_by(risk[k]) / total - auc) / m
            } else {
                0.0
            };
            nf * v[k] / total + as_control + through_g[k] / total
        })
        .collect();
    Some(Auc {
        auc,
        se: standard_error(&influence),
    })
}

/// Each subject's IPCW squared residual at `t`, with where it reads G: (1 − risk)²/G(Tᵢ−)
/// for an event by `t`, risk²/G(t) for one still event-free, 0 for one censored before
/// `t` (carried by the weights of the others). Their mean is the Brier score.
fn brier_terms(
    time: &[f64],
    event: &[bool],
    risk: &[f64],
    t: f64,
    censoring: &Censoring,
) -> Vec<(Read, f64)> {
    let g_t = censoring.at(t);
    (0..time.len())
        .map(|i| {
            if time[i] <= t && event[i] {
                let g = censoring.before(time[i]);
                (Read::Before(time[i]), (1.0 - risk[i]).powi(2) / g)
            } else if time[i] > t {
                (Read::At(t), risk[i].powi(2) / g_t)
            } else {
                (Read::At(t), 0.0)
            }
        })
        .collect()
}

/// The IPCW Brier score at `t` of predicted event probabilities `risk`.
pub fn brier(time: &[f64], event: &[bool], risk: &[f64], t: f64, censoring: &Censoring) -> f64 {
    let terms = brier_terms(time, event, risk, t, censoring);
    terms.iter().map(|(_, r)| r).sum::<f64>() / time.len() as f64
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
    /// The standard error of `brier`, from its influence function
    /// IFₖ = rₖ − Brier + (1/n)·Σᵢ rᵢ·ψₖ(sᵢ), rᵢ subject i's weighted squared residual,
    /// sᵢ where it reads G (Tᵢ− or t) and ψ as in [`Censoring::influence`]: as
    /// `Score(…, cens.model = "km", se.fit = TRUE)` (`getInfluenceCurve.Brier` with its
    /// IPCW term), equal to its last digit on `pbc`.
    pub se: f64,
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
    let terms = brier_terms(time, event, risk, t, censoring);
    let n = time.len() as f64;
    let model = terms.iter().map(|(_, r)| r).sum::<f64>() / n;
    let null = brier(time, event, &null_risk, t, censoring);
    let influence: Vec<f64> = terms
        .iter()
        .zip(censoring.influence(&terms))
        .map(|((_, r), g)| r - model + g / n)
        .collect();
    BrierScore {
        time: t,
        brier: model,
        brier_null: null,
        ipa: 1.0 - model / null,
        se: standard_error(&influence),
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
