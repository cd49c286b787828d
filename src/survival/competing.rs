//! Competing risks — in cirrhosis, a transplant prevents the death one wanted to
//! predict, and censoring at transplant overstates the risk of death (1 − KM):
//!
//! - the Aalen–Johansen cumulative incidence of each outcome (as `survfit` with a
//!   multi-state status, or `cmprsk::cuminc`);
//! - the Fine–Gray subdistribution hazards model (Fine & Gray, JASA 1999;94:496), as
//!   `cmprsk::crr`: those who had the competing event stay in the risk set, weighted by
//!   G(t−)/G(Tⱼ−), G the Kaplan–Meier of the censoring; Breslow ties.

use nalgebra::{DMatrix, DVector};

use super::design::Status;
use super::km::KaplanMeier;

/// The share of patients in each state at a time.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StateShares {
    pub time: f64,
    pub event_free: f64,
    /// Cumulative incidence of the event studied.
    pub event: f64,
    pub competing: f64,
}

/// Aalen–Johansen: each cause's incidence is Σ S(tⱼ−)·dⱼ/nⱼ over event times up to t,
/// with S the Kaplan–Meier of staying free of both.
pub fn aalen_johansen(time: &[f64], status: &[Status], at: &[f64]) -> Vec<StateShares> {
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    let mut steps: Vec<(f64, f64, f64, f64)> = Vec::new(); // time, S after, F1, F2
    let (mut s, mut f1, mut f2) = (1.0, 0.0, 0.0);
    let mut at_risk = time.len() as f64;
    let mut k = 0;
    while k < order.len() {
        let t = time[order[k]];
        let end = k + order[k..].iter().take_while(|&&i| time[i] == t).count();
        let count =
            |want: Status| order[k..end].iter().filter(|&&i| status[i] == want).count() as f64;
        let (d1, d2) = (count(Status::Event), count(Status::Competing));
        f1 += s * d1 / at_risk;
        f2 += s * d2 / at_risk;
        s *= 1.0 - (d1 + d2) / at_risk;
        steps.push((t, s, f1, f2));
        at_risk -= (end - k) as f64;
        k = end;
    }
    at.iter()
        .map(|&t| {
            let (s, f1, f2) = match steps.partition_point(|step| step.0 <= t) {
                0 => (1.0, 0.0, 0.0),
                k => (steps[k - 1].1, steps[k - 1].2, steps[k - 1].3),
            };
            StateShares {
                time: t,
                event_free: s,
                event: f1,
                competing: f2,
            }
        })
        .collect()
}

/// A fitted Fine–Gray model: coefficients of the subdistribution hazard.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FineGray {
    pub names: Vec<String>,
    pub coef: Vec<f64>,
    /// The sandwich covariance I⁻¹·(Σᵢ (ηᵢ + ψᵢ)(ηᵢ + ψᵢ)ᵀ)·I⁻¹ of Fine & Gray (1999, §3),
    /// as `crr`'s `var`: ηᵢ is subject i's score residual and ψᵢ its part through the
    /// estimated censoring weights, without which the variance would be too small.
    /// NaN where the information cannot be inverted.
    pub covariance: Vec<Vec<f64>>,
    /// √diag(covariance), the standard errors `crr` reports.
    pub se: Vec<f64>,
    pub loglik: f64,
    pub iterations: usize,
    pub converged: bool,
}

impl FineGray {
    /// The table `summary(crr)` prints: coefficient, standard error, Wald z and p, and
    /// the subdistribution hazard ratio exp(coef) (in `hr`) with its interval at `level`.
    /// `crr` has one standard error, the sandwich one: `se` and `robust_se` both hold it.
    pub fn coefficients(&self, level: f64) -> Vec<super::cox::Coefficient> {
        self.names
            .iter()
            .zip(self.coef.iter().zip(&self.se))
            .map(|(name, (&b, &se))| super::cox::Coefficient::wald(name.clone(), b, se, se, level))
            .collect()
    }
}

/// The weighted risk set at one distinct event time, at given coefficients.
struct RiskSet {
    time: f64,
    deaths: f64,
    /// G(t−), the censoring's Kaplan–Meier just before.
    g: f64,
    /// Σ wᵢ·exp(βZᵢ) over the risk set.
    s0: f64,
    /// The mean of Z there, with the same weights.
    mean: DVector<f64>,
}

/// The partial likelihood at given coefficients, with what the sandwich needs.
struct Evaluation {
    loglik: f64,
    score: DVector<f64>,
    info: DMatrix<f64>,
    risk_sets: Vec<RiskSet>,
    /// exp(βZᵢ) of each subject.
    risk: Vec<f64>,
}

/// Fits the subdistribution hazards of `Status::Event` with `Status::Competing` as the
/// competing event. `None` without an event or when the information is singular.
pub fn fine_gray(time: &[f64], status: &[Status], x: &[f64], names: &[String]) -> Option<FineGray> {
    let (n, p) = (time.len(), names.len());
    let censored: Vec<bool> = status.iter().map(|s| *s == Status::Censored).collect();
    let g = KaplanMeier::fit(time, &censored);
    let own: Vec<f64> = time.iter().map(|&t| g.surv_before(t)).collect();
    let mut times: Vec<f64> = (0..n)
        .filter(|&i| status[i] == Status::Event)
        .map(|i| time[i])
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    if times.is_empty() {
        return None;
    }
    let row = |i: usize| DVector::from_column_slice(&x[i * p..(i + 1) * p]);
    let evaluate = |beta: &[f64]| {
        let beta = DVector::from_column_slice(beta);
        let risk: Vec<f64> = (0..n).map(|i| row(i).dot(&beta).exp()).collect();
        let mut loglik = 0.0;
        let mut score = DVector::<f64>::zeros(p);
        let mut info = DMatrix::<f64>::zeros(p, p);
        let mut risk_sets = Vec::with_capacity(times.len());
        for &t in &times {
            let g_t = g.surv_before(t);
            let (mut s0, mut s1, mut s2) = (0.0, DVector::zeros(p), DMatrix::zeros(p, p));
            let mut deaths = 0.0;
            for i in 0..n {
                let w = if time[i] >= t {
                    1.0
                } else if status[i] == Status::Competing {
                    g_t / own[i]
                } else {
                    continue;
                };
                let xi = row(i);
                let wr = w * risk[i];
                s0 += wr;
                s1 += &xi * wr;
                s2 += &xi * xi.transpose() * wr;
                if time[i] == t && status[i] == Status::Event {
                    deaths += 1.0;
                    score += &xi;
                    loglik += risk[i].ln();
                }
            }
            loglik -= deaths * s0.ln();
            score -= &s1 * (deaths / s0);
            info += (s2 / s0 - &s1 * s1.transpose() / (s0 * s0)) * deaths;
            risk_sets.push(RiskSet {
                time: t,
                deaths,
                g: g_t,
                s0,
                mean: s1 / s0,
            });
        }
        Evaluation {
            loglik,
            score,
            info,
            risk_sets,
            risk,
        }
    };
    let mut beta = vec![0.0; p];
    let mut current = evaluate(&beta);
    let mut iterations = 0;
    let mut converged = false;
    'newton: for iteration in 1..=25 {
        iterations = iteration;
        let step = current.info.clone().cholesky()?.solve(&current.score);
        let mut scale = 1.0;
        loop {
            let trial: Vec<f64> = beta
                .iter()
                .zip(step.iter())
                .map(|(b, s)| b + scale * s)
                .collect();
            let next = evaluate(&trial);
            let (l, previous) = (next.loglik, current.loglik);
            if l.is_finite() && l >= previous - 1e-12 {
                let done = (l - previous).abs() <= 1e-9 * previous.abs().max(1.0);
                beta = trial;
                current = next;
                if done {
                    converged = true;
                    break 'newton;
                }
                break;
            }
            scale /= 2.0;
            if scale < 1e-6 {
                break;
            }
        }
    }
    let covariance = sandwich(time, status, &own, &row, &current);
    let se = (0..p).map(|j| covariance[(j, j)].sqrt()).collect();
    Some(FineGray {
        names: names.to_vec(),
        coef: beta,
        covariance: (0..p)
            .map(|j| covariance.row(j).iter().copied().collect())
            .collect(),
        se,
        loglik: current.loglik,
        iterations,
        converged,
    })
}

/// Fine & Gray's (JASA 1999;94:496, §3 and appendix) sandwich covariance at the fitted
/// coefficients, computed as `cmprsk::crr` does in its Fortran `crrvv`:
///
/// - ηᵢ = Δᵢ·(Zᵢ − Z̄(Tᵢ)) − Σₜ dₜ·wᵢ(t)·exp(βZᵢ)·(Zᵢ − Z̄(t))/S0(t), over event times t,
///   wᵢ(t) = 1 at risk, G(t−)/G(Tᵢ−) after a competing event at Tᵢ < t;
/// - ψᵢ = [censored]·q(Tᵢ)/Y(Tᵢ) − Σ_{censoring times u ≤ Tᵢ} c(u)·q(u)/Y(u)², Y(u) the
///   number followed to u, c(u) the censored there, and
///   q(u) = Σ_{t ≥ u} dₜ·G(t−)/S0(t) · Σ_{competing j, Tⱼ < u} exp(βZⱼ)/G(Tⱼ−)·(Zⱼ − Z̄(t)).
///
/// Sums over event times run through running totals: O(n·p²) after the fit.
fn sandwich(
    time: &[f64],
    status: &[Status],
    own: &[f64],
    row: &impl Fn(usize) -> DVector<f64>,
    fit: &Evaluation,
) -> DMatrix<f64> {
    let (sets, risk) = (&fit.risk_sets, &fit.risk);
    let (n, p, k) = (time.len(), fit.info.nrows(), sets.len());
    // Over event times: before[m] sums sets ..m of (dₜ/S0, dₜ·Z̄/S0); after[m] sums sets
    // m.. of the same times G(t−).
    let mut before = vec![(0.0, DVector::<f64>::zeros(p)); k + 1];
    let mut after = vec![(0.0, DVector::<f64>::zeros(p)); k + 1];
    for (m, s) in sets.iter().enumerate() {
        let a = s.deaths / s.s0;
        before[m + 1] = (before[m].0 + a, &before[m].1 + &s.mean * a);
    }
    for (m, s) in sets.iter().enumerate().rev() {
        let a = s.g * s.deaths / s.s0;
        after[m] = (after[m + 1].0 + a, &after[m + 1].1 + &s.mean * a);
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    let mut meat = DMatrix::<f64>::zeros(p, p);
    // Competing events before the current time: Σ exp(βZⱼ)/G(Tⱼ−) and the same times Zⱼ.
    let (mut r0, mut r1) = (0.0, DVector::<f64>::zeros(p));
    let mut accrued = DVector::<f64>::zeros(p);
    let mut start = 0;
    while start < n {
        let u = time[order[start]];
        let end = start + order[start..].iter().take_while(|&&i| time[i] == u).count();
        let group = &order[start..end];
        let followed = (n - start) as f64;
        let censored = group
            .iter()
            .filter(|&&i| status[i] == Status::Censored)
            .count() as f64;
        let q = if censored > 0.0 {
            let (sa, sb) = &after[sets.partition_point(|s| s.time < u)];
            let q = &r1 * *sa - sb * r0;
            accrued += &q * (censored / (followed * followed));
            q
        } else {
            DVector::zeros(p)
        };
        let through = sets.partition_point(|s| s.time <= u);
        for &i in group {
            let zi = row(i);
            let (a0, a1) = &before[through];
            // ηᵢ, and for a censored subject the dN part of ψᵢ.
            let mut own_part = -(&zi * *a0 - a1) * risk[i];
            match status[i] {
                Status::Event => {
                    // The risk set at the subject's own time (always there: u is an
                    // event time).
                    if let Some(at) = through.checked_sub(1).and_then(|m| sets.get(m)) {
                        own_part += &zi - &at.mean;
                    }
                }
                Status::Competing => {
                    let (g0, g1) = &after[through];
                    own_part -= (&zi * *g0 - g1) * (risk[i] / own[i]);
                }
                Status::Censored => own_part += &q / followed,
            }
            let total = own_part - &accrued;
            meat += &total * total.transpose();
        }
        for &i in group {
            if status[i] == Status::Competing {
                let w = risk[i] / own[i];
                r0 += w;
                r1 += row(i) * w;
            }
        }
        start = end;
    }
    match fit.info.clone().try_inverse() {
        Some(bread) => &bread * meat * &bread,
        None => DMatrix::from_element(p, p, f64::NAN),
    }
}
