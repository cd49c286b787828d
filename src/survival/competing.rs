//! Competing risks — in cirrhosis, a transplant prevents the death one wanted to
//! predict, and censoring at transplant overstates the risk of death (1 − KM):
//!
//! - the Aalen–Johansen cumulative incidence of each outcome (as `survfit` with a
//!   multi-state status, or `cmprsk::cuminc`) with Gray's variance (the one `cuminc`
//!   reports) and an interval on the log(−log) scale, which stays inside (0, 1);
//! - Gray's test that a cause's cumulative incidence is the same in every group (Gray,
//!   Ann Stat 1988;16:1141; `cmprsk::cuminc(…, group)`), stratified if asked;
//! - the Fine–Gray subdistribution hazards model (Fine & Gray, JASA 1999;94:496), as
//!   `cmprsk::crr`: those who had the competing event stay in the risk set, weighted by
//!   G(t−)/G(Tⱼ−), G the Kaplan–Meier of the censoring; Breslow ties.

use nalgebra::{DMatrix, DVector};

use super::design::Status;
use super::km::KaplanMeier;
use crate::stats::{chisq_upper, normal_quantile};

/// The share of patients in each state at a time.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StateShares {
    pub time: f64,
    pub event_free: f64,
    /// Cumulative incidence of the event studied.
    pub event: f64,
    pub competing: f64,
}

/// Aalen–Johansen: each cause's incidence at t is Σ S(tⱼ−)·dⱼ/nⱼ over its event times
/// up to t, S the Kaplan–Meier of staying free of both; the shares add up to one.
pub fn aalen_johansen(time: &[f64], status: &[Status], at: &[f64]) -> Vec<StateShares> {
    let event = Incidence::fit(time, status, Status::Event);
    let competing = Incidence::fit(time, status, Status::Competing);
    at.iter()
        .map(|&t| {
            let (f1, f2) = (event.value_at(t), competing.value_at(t));
            StateShares {
                time: t,
                event_free: 1.0 - f1 - f2,
                event: f1,
                competing: f2,
            }
        })
        .collect()
}

/// One cause's cumulative incidence: a step at each of its event times.
#[derive(Debug, Clone, PartialEq)]
pub struct Incidence {
    pub times: Vec<f64>,
    /// F just after each time.
    pub value: Vec<f64>,
    /// Gray's variance of F there (`cuminc`'s `var`; survfit's infinitesimal jackknife
    /// differs in the fourth digit on `pbc`).
    pub variance: Vec<f64>,
    /// The number still at risk (free of both outcomes) just before each time.
    pub n_risk: Vec<usize>,
}

/// The incidence read at one time, with its interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IncidencePoint {
    pub time: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub incidence: f64,
    pub std_err: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

impl Incidence {
    /// The incidence of `cause`; the other non-censored status is its competitor.
    ///
    /// The variance follows Gray's delta-method derivation as `cmprsk`'s `cinc`
    /// accumulates it: three running sums over the event times (of either cause), each
    /// term carrying the tie correction 1 − (d − 1)/(n − 1).
    pub fn fit(time: &[f64], status: &[Status], cause: Status) -> Incidence {
        let mut order: Vec<usize> = (0..time.len()).collect();
        order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
        let mut out = Incidence {
            times: Vec::new(),
            value: Vec::new(),
            variance: Vec::new(),
            n_risk: Vec::new(),
        };
        let (mut surv, mut f) = (1.0, 0.0);
        let (mut v1, mut v2, mut v3) = (0.0, 0.0, 0.0);
        let mut k = 0;
        while k < order.len() {
            let t = time[order[k]];
            let end = k + order[k..].iter().take_while(|&&i| time[i] == t).count();
            let at_risk = (order.len() - k) as f64;
            let count = |want: &dyn Fn(Status) -> bool| {
                order[k..end].iter().filter(|&&i| want(status[i])).count() as f64
            };
            let own = count(&|s| s == cause);
            let other = count(&|s| s != cause && s != Status::Censored);
            k = end;
            if own + other == 0.0 {
                continue;
            }
            let surv_after = surv * (at_risk - own - other) / at_risk;
            f += surv * own / at_risk;
            let tie = |d: f64| {
                if d > 1.0 {
                    1.0 - (d - 1.0) / (at_risk - 1.0)
                } else {
                    1.0
                }
            };
            let mut add = |a: f64, b: f64, d: f64| {
                let w = surv * surv * tie(d) * d / (at_risk * at_risk);
                v1 += a * a * w;
                v2 += a * b * w;
                v3 += b * b * w;
            };
            let inverse = if surv_after > 0.0 {
                1.0 / surv_after
            } else {
                0.0
            };
            if other > 0.0 && surv_after > 0.0 {
                add(f * inverse, inverse, other);
            }
            if own > 0.0 {
                add(1.0 + inverse * f, inverse, own);
                out.times.push(t);
                out.value.push(f);
                out.variance.push(v1 + f * f * v3 - 2.0 * f * v2);
                out.n_risk.push(at_risk as usize);
            }
            surv = surv_after;
        }
        out
    }

    fn step_at(&self, t: f64) -> Option<usize> {
        self.times.partition_point(|&x| x <= t).checked_sub(1)
    }

    pub fn value_at(&self, t: f64) -> f64 {
        self.step_at(t).map_or(0.0, |k| self.value[k])
    }

    /// F(t) with its standard error and a `level` interval on the log(−log) scale:
    /// F^exp(±z·se/(F·log F)), as `tidycmprsk::cuminc` draws `cuminc`'s variance.
    pub fn at(&self, t: f64, level: f64) -> IncidencePoint {
        let Some(k) = self.step_at(t) else {
            return IncidencePoint {
                time: t,
                incidence: 0.0,
                std_err: Some(0.0),
                lower: None,
                upper: None,
            };
        };
        let (f, var) = (self.value[k], self.variance[k]);
        let se = var.max(0.0).sqrt();
        // At F = 1 (everyone has had this event; rounding may leave 1 − 1e-16) the
        // log(−log) scale has no interval, as at F = 0.
        let (lower, upper) = if f > 0.0 && f < 1.0 - 1e-12 && se.is_finite() {
            let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
            let spread = (z * se / (f * f.ln())).exp();
            // f·ln f < 0, so `spread` < 1 and f^spread > f.
            (Some(f.powf(1.0 / spread)), Some(f.powf(spread)))
        } else {
            (None, None)
        };
        IncidencePoint {
            time: t,
            incidence: f,
            std_err: Some(se),
            lower,
            upper,
        }
    }
}

/// Gray's test of one cause's incidence across groups: s'·V⁻¹·s on groups − 1 degrees
/// of freedom.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GrayTest {
    pub chisq: f64,
    pub df: usize,
    pub p: Option<f64>,
}

/// Gray's k-sample test that `cause`'s cumulative incidence is equal in every group
/// (`group[i]` in 0..groups), summed over strata, with weight (1 − F(t−))^rho (rho = 0
/// as `cuminc`'s default). The score compares each group's events with those expected
/// from its subdistribution risk set; the variance is Gray's (1988, §3), accumulated as
/// `cmprsk`'s `crstm`. `None` with fewer than two groups or a singular variance.
pub fn gray_test(
    time: &[f64],
    status: &[Status],
    group: &[usize],
    strata: &[usize],
    cause: Status,
    rho: f64,
) -> Option<GrayTest> {
    let groups = group.iter().max().map_or(0, |g| g + 1);
    if groups < 2 {
        return None;
    }
    let mut score = DVector::<f64>::zeros(groups - 1);
    let mut var = DMatrix::<f64>::zeros(groups - 1, groups - 1);
    for stratum in 0..strata.iter().max().map_or(0, |s| s + 1) {
        let mut rows: Vec<usize> = (0..time.len()).filter(|&i| strata[i] == stratum).collect();
        rows.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
        let (s, v) = gray_stratum(time, status, group, &rows, groups, cause, rho);
        score += s;
        var += v;
    }
    let chisq = var.clone().lu().solve(&score).map(|x| x.dot(&score))?;
    (var.rank(1e-10) == groups - 1).then_some(GrayTest {
        chisq,
        df: groups - 1,
        p: chisq_upper(chisq, groups - 1),
    })
}

/// One stratum's score and variance for Gray's test (`rows` sorted by time).
fn gray_stratum(
    time: &[f64],
    status: &[Status],
    group: &[usize],
    rows: &[usize],
    groups: usize,
    cause: Status,
    rho: f64,
) -> (DVector<f64>, DMatrix<f64>) {
    let g1 = groups - 1;
    let mut at_risk = vec![0.0; groups];
    for &i in rows {
        at_risk[group[i]] += 1.0;
    }
    // Per group: event-free KM and the cause's incidence, just before (…_before) and
    // at the current time.
    let mut surv_before = vec![1.0; groups];
    let mut surv = vec![1.0; groups];
    let mut inc_before = vec![0.0; groups];
    let mut inc = vec![0.0; groups];
    // The pooled incidence before / at the current time.
    let (mut pooled_before, mut pooled) = (0.0, 0.0);
    let mut score = DVector::<f64>::zeros(g1);
    let mut v = DMatrix::<f64>::zeros(g1, g1);
    let mut c = DMatrix::<f64>::zeros(groups, groups);
    let mut a = DMatrix::<f64>::zeros(groups, groups);
    let mut v2 = DMatrix::<f64>::zeros(g1, groups);
    let mut v3 = vec![0.0; groups];
    let mut k = 0;
    while k < rows.len() {
        let t = time[rows[k]];
        let end = k + rows[k..].iter().take_while(|&&i| time[i] == t).count();
        let (mut own, mut other) = (vec![0.0; groups], vec![0.0; groups]);
        for &i in &rows[k..end] {
            if status[i] == cause {
                own[group[i]] += 1.0;
            } else if status[i] != Status::Censored {
                other[group[i]] += 1.0;
            }
        }
        let (d1, d2): (f64, f64) = (own.iter().sum(), other.iter().sum());
        if d1 + d2 > 0.0 {
            // Σ nⱼ/Sⱼ(t−) and Σ nⱼ(1 − Fⱼ(t−))/Sⱼ(t−): the (weighted) risk sets of
            // the subdistribution.
            let (mut tr, mut tq) = (0.0, 0.0);
            for j in (0..groups).filter(|&j| at_risk[j] > 0.0) {
                surv[j] = surv_before[j] * (at_risk[j] - own[j] - other[j]) / at_risk[j];
                inc[j] = inc_before[j] + surv_before[j] * own[j] / at_risk[j];
                tr += at_risk[j] / surv_before[j];
                tq += at_risk[j] * (1.0 - inc_before[j]) / surv_before[j];
            }
            pooled = pooled_before + d1 / tr;
            let weight = (1.0 - pooled_before).powf(rho);
            let size = |j: usize| at_risk[j] / surv_before[j];
            a.fill(0.0);
            for i in (0..groups).filter(|&i| at_risk[i] > 0.0) {
                for j in (i..groups).filter(|&j| at_risk[j] > 0.0) {
                    a[(i, j)] = if i == j {
                        weight * size(i) * (1.0 - size(i) / tr)
                    } else {
                        -weight * size(i) * size(j) / tr
                    };
                    a[(j, i)] = a[(i, j)];
                    if a[(i, j)] != 0.0 {
                        c[(i, j)] += a[(i, j)] * d1 / (tr * (1.0 - pooled_before));
                        c[(j, i)] = c[(i, j)];
                    }
                }
            }
            for i in (0..g1).filter(|&i| at_risk[i] > 0.0) {
                score[i] += weight
                    * (own[i] - d1 * at_risk[i] * (1.0 - inc_before[i]) / (surv_before[i] * tq));
            }
            if d1 > 0.0 {
                for j in (0..groups).filter(|&j| at_risk[j] > 0.0) {
                    let t4 = if surv[j] > 0.0 {
                        1.0 - (1.0 - pooled) / surv[j]
                    } else {
                        1.0
                    };
                    let tie = if d1 > 1.0 {
                        1.0 - (d1 - 1.0) / (tr * surv_before[j] - 1.0)
                    } else {
                        1.0
                    };
                    let t3 = tie * surv_before[j] * d1 / (tr * at_risk[j]);
                    v3[j] += t4 * t4 * t3;
                    for i in 0..g1 {
                        let ti = a[(i, j)] - t4 * c[(i, j)];
                        v2[(i, j)] += ti * t4 * t3;
                        for l in 0..=i {
                            v[(i, l)] += ti * (a[(l, j)] - t4 * c[(l, j)]) * t3;
                        }
                    }
                }
            }
            for j in (0..groups).filter(|&j| surv[j] > 0.0 && other[j] > 0.0) {
                let t4 = (1.0 - pooled) / surv[j];
                let tie = if other[j] > 1.0 {
                    1.0 - (other[j] - 1.0) / (at_risk[j] - 1.0)
                } else {
                    1.0
                };
                let t3 =
                    tie * surv_before[j] * surv_before[j] * other[j] / (at_risk[j] * at_risk[j]);
                v3[j] += t4 * t4 * t3;
                for i in 0..g1 {
                    let ti = t4 * c[(i, j)];
                    v2[(i, j)] -= ti * t4 * t3;
                    for l in 0..=i {
                        v[(i, l)] += ti * t4 * c[(l, j)] * t3;
                    }
                }
            }
        }
        for &i in &rows[k..end] {
            at_risk[group[i]] -= 1.0;
        }
        pooled_before = pooled;
        inc_before.copy_from_slice(&inc);
        surv_before.copy_from_slice(&surv);
        k = end;
    }
    for i in 0..g1 {
        for l in 0..=i {
            for j in 0..groups {
                v[(i, l)] +=
                    c[(i, j)] * c[(l, j)] * v3[j] + c[(i, j)] * v2[(l, j)] + c[(l, j)] * v2[(i, j)];
            }
            v[(l, i)] = v[(i, l)];
        }
    }
    (score, v)
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
