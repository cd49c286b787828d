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
    pub loglik: f64,
    pub iterations: usize,
    pub converged: bool,
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
    let row = |i: usize| &x[i * p..(i + 1) * p];
    let evaluate = |beta: &[f64]| {
        let risk: Vec<f64> = (0..n)
            .map(|i| {
                row(i)
                    .iter()
                    .zip(beta)
                    .map(|(a, b)| a * b)
                    .sum::<f64>()
                    .exp()
            })
            .collect();
        let mut loglik = 0.0;
        let mut score = DVector::<f64>::zeros(p);
        let mut info = DMatrix::<f64>::zeros(p, p);
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
                let xi = DVector::from_column_slice(row(i));
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
        }
        (loglik, score, info)
    };
    let mut beta = vec![0.0; p];
    let (mut loglik, mut score, mut info) = evaluate(&beta);
    for iteration in 1..=25 {
        let step = info.clone().cholesky()?.solve(&score);
        let mut scale = 1.0;
        loop {
            let trial: Vec<f64> = beta
                .iter()
                .zip(step.iter())
                .map(|(b, s)| b + scale * s)
                .collect();
            let (l, u, i) = evaluate(&trial);
            if l.is_finite() && l >= loglik - 1e-12 {
                let done = (l - loglik).abs() <= 1e-9 * loglik.abs().max(1.0);
                beta = trial;
                (loglik, score, info) = (l, u, i);
                if done {
                    return Some(FineGray {
                        names: names.to_vec(),
                        coef: beta,
                        loglik,
                        iterations: iteration,
                        converged: true,
                    });
                }
                break;
            }
            scale /= 2.0;
            if scale < 1e-6 {
                break;
            }
        }
    }
    Some(FineGray {
        names: names.to_vec(),
        coef: beta,
        loglik,
        iterations: 25,
        converged: false,
    })
}
