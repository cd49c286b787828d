//! The Cox proportional-hazards model (Cox, JRSS-B 1972;34:187) as R's
//! `survival::coxph` fits it (Therneau & Grambsch, *Modeling Survival Data*, 2000):
//! Efron's (default) or Breslow's handling of tied deaths, Newton–Raphson from zero with
//! step halving and R's stopping rule (|1 − ℓ_old/ℓ_new| ≤ 1e−9, at most 20
//! iterations), strata with their own baseline, model-based and robust (Lin–Wei
//! sandwich) variances, the Wald, likelihood-ratio and score tests, and the baseline
//! cumulative hazard (Efron-adjusted like `survfit.coxph`).
//!
//! Covariates are centred on their means inside the fit (as R does) only for numerical
//! safety; coefficients do not depend on it. The baseline hazard is stored both
//! uncentred (at covariates 0, `basehaz(fit, centered = FALSE)`) and at the means.

use nalgebra::{DMatrix, DVector};

use crate::stats::{chisq_upper, normal_quantile, normal_upper};

/// How tied death times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ties {
    /// Efron 1977: the d tied deaths' risk set is down-weighted by k/d in turn (R's
    /// default).
    #[default]
    Efron,
    /// Breslow 1974: each tied death sees the whole risk set.
    Breslow,
}

impl Ties {
    pub fn parse(text: &str) -> Option<Ties> {
        match text {
            "efron" => Some(Ties::Efron),
            "breslow" => Some(Ties::Breslow),
            _ => None,
        }
    }
}

/// What a fit is given: one row per patient, covariates row-major.
#[derive(Debug, Clone, Copy)]
pub struct CoxInput<'a> {
    pub time: &'a [f64],
    pub event: &'a [bool],
    pub x: &'a [f64],
    pub names: &'a [String],
    /// Stratum per row (0 for all without strata).
    pub strata: &'a [usize],
}

impl CoxInput<'_> {
    pub(super) fn p(&self) -> usize {
        self.names.len()
    }

    pub(super) fn rows(&self) -> usize {
        self.time.len()
    }
}

/// Why a model could not be fitted at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoxError {
    #[error("no patient had the event: there is nothing to fit")]
    NoEvents,
    #[error("no covariates: a Cox model needs at least one")]
    NoCovariates,
    #[error("{0} has the same value for every patient: it cannot be estimated")]
    Constant(String),
    #[error("{name} is a linear combination of {others}: leave one of them out")]
    Collinear { name: String, others: String },
}

/// A chi-square test with its degrees of freedom and p-value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Test {
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub chisq: f64,
    pub df: usize,
    pub p: Option<f64>,
}

impl Test {
    pub(super) fn new(chisq: f64, df: usize) -> Test {
        Test {
            chisq,
            df,
            p: chisq_upper(chisq, df),
        }
    }
}

/// The baseline cumulative hazard of one stratum, as a step function over its event
/// times, at covariates 0 (uncentred).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    pub times: Vec<f64>,
    pub cumhaz: Vec<f64>,
}

impl Baseline {
    /// H0(t): the last step at or before `t` (0 before the first event).
    pub fn at(&self, t: f64) -> f64 {
        match self.times.partition_point(|&x| x <= t) {
            0 => 0.0,
            k => self.cumhaz[k - 1],
        }
    }
}

/// A fitted Cox model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CoxFit {
    pub names: Vec<String>,
    pub ties: Ties,
    pub n: usize,
    pub events: usize,
    pub coef: Vec<f64>,
    /// Model-based covariance (inverse information), row by row.
    pub var: Vec<Vec<f64>>,
    /// The robust variance and its tests; not computed for a bootstrap refit.
    pub robust: Option<Robust>,
    /// The covariate means the fit centred on (R's `fit$means`).
    pub means: Vec<f64>,
    pub loglik_null: f64,
    pub loglik: f64,
    pub lr_test: Test,
    pub wald_test: Test,
    pub score_test: Test,
    pub iterations: usize,
    pub converged: bool,
    /// Coefficients that may be infinite (the log-likelihood converged while they still
    /// grow: the covariate separates those with events from those without).
    pub infinite: Vec<usize>,
    /// One baseline per stratum.
    pub baseline: Vec<Baseline>,
    pub strata: usize,
}

/// The robust (sandwich) covariance D'D, D the dfbeta residuals, each row its own
/// cluster, and the Wald and score tests on it (`coxph(…, robust = TRUE)`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Robust {
    pub var: Vec<Vec<f64>>,
    pub wald_test: Test,
    pub score_test: Test,
}

/// What a fit computes beyond the coefficients, their model-based covariance and the
/// baseline hazard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// Everything `summary(coxph)` reports, the robust variance included.
    Full,
    /// What a bootstrap refit is judged on: the robust variance (two more passes over
    /// the data and their residuals, a third of a refit's time) is skipped.
    Refit,
}

/// `coxph.control()`'s defaults.
const EPS: f64 = 1e-9;
const MAX_ITERATIONS: usize = 20;
const TOLER_INF: f64 = 3.162_277_660_168_379_5e-5; // sqrt(EPS)

/// Rows sorted by stratum then time, covariates centred.
pub(super) struct Prepared {
    pub(super) order: Vec<usize>,
    /// Each stratum's range in `order`.
    pub(super) blocks: Vec<std::ops::Range<usize>>,
    xc: Vec<f64>,
    means: Vec<f64>,
    pub(super) p: usize,
}

impl Prepared {
    pub(super) fn new(input: &CoxInput<'_>) -> Prepared {
        let (n, p) = (input.rows(), input.p());
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| {
            input.strata[a]
                .cmp(&input.strata[b])
                .then(input.time[a].total_cmp(&input.time[b]))
        });
        let mut blocks = Vec::new();
        let mut start = 0;
        for k in 1..=n {
            if k == n || input.strata[order[k]] != input.strata[order[start]] {
                blocks.push(start..k);
                start = k;
            }
        }
        let means: Vec<f64> = (0..p)
            .map(|j| (0..n).map(|i| input.x[i * p + j]).sum::<f64>() / n as f64)
            .collect();
        let xc = input
            .x
            .iter()
            .enumerate()
            .map(|(k, v)| v - means[k % p])
            .collect();
        Prepared {
            order,
            blocks,
            xc,
            means,
            p,
        }
    }

    pub(super) fn row(&self, i: usize) -> &[f64] {
        &self.xc[i * self.p..(i + 1) * self.p]
    }

    fn lp(&self, i: usize, beta: &[f64]) -> f64 {
        self.row(i).iter().zip(beta).map(|(x, b)| x * b).sum()
    }
}

/// The risk-set sums at one event time and the d pseudo-events Efron makes of it.
pub(super) struct EventTime {
    /// Index range in `order` of the rows with this time.
    pub(super) rows: std::ops::Range<usize>,
    pub(super) deaths: usize,
    /// Per pseudo-event q: s0 and s1 (the risk set's sums, down-weighted for Efron).
    pub(super) s0: Vec<f64>,
    pub(super) s1: Vec<Vec<f64>>,
    /// This time's share of the score and of the information (p × p), for the
    /// proportional-hazards test.
    pub(super) score: Vec<f64>,
    pub(super) info: Vec<f64>,
}

/// One pass over the risk sets at `beta`: log partial likelihood, score, information
/// and, when asked, each event time's sums (for residuals and the baseline).
pub(super) struct Pass {
    loglik: f64,
    score: DVector<f64>,
    info: DMatrix<f64>,
    pub(super) times: Vec<Vec<EventTime>>,
}

pub(super) fn pass(
    input: &CoxInput<'_>,
    prep: &Prepared,
    beta: &[f64],
    ties: Ties,
    keep: bool,
) -> Pass {
    let p = prep.p;
    let mut loglik = 0.0;
    let mut score = DVector::zeros(p);
    let mut info = DMatrix::zeros(p, p);
    let mut all_times = Vec::new();
    let risk: Vec<f64> = (0..input.rows()).map(|i| prep.lp(i, beta).exp()).collect();
    // The dying rows' sums at one time, and one pseudo-event's mean: reused from time to
    // time (allocating them at each time was a quarter of a bootstrap's run).
    let (mut a1, mut a2, mut dead_x) = (vec![0.0; p], vec![0.0; p * p], vec![0.0; p]);
    let (mut e1, mut mean) = (vec![0.0; p], vec![0.0; p]);
    for block in &prep.blocks {
        let mut times = Vec::new();
        let (mut s0, mut s1, mut s2) = (0.0, vec![0.0; p], vec![0.0; p * p]);
        let mut k = block.end;
        while k > block.start {
            let t = input.time[prep.order[k - 1]];
            let mut j = k;
            while j > block.start && input.time[prep.order[j - 1]] == t {
                j -= 1;
            }
            let (mut d, mut a0) = (0usize, 0.0);
            a1.fill(0.0);
            a2.fill(0.0);
            dead_x.fill(0.0);
            for &i in &prep.order[j..k] {
                let (r, x) = (risk[i], prep.row(i));
                s0 += r;
                for a in 0..p {
                    s1[a] += r * x[a];
                    for b in 0..=a {
                        s2[a * p + b] += r * x[a] * x[b];
                    }
                }
                if input.event[i] {
                    d += 1;
                    a0 += r;
                    loglik += prep.lp(i, beta);
                    for a in 0..p {
                        a1[a] += r * x[a];
                        score[a] += x[a];
                        dead_x[a] += x[a];
                        for b in 0..=a {
                            a2[a * p + b] += r * x[a] * x[b];
                        }
                    }
                }
            }
            if d > 0 {
                // This time's own shares, kept for residuals, the baseline and the
                // proportional-hazards test.
                let mut event = keep.then(|| EventTime {
                    rows: j..k,
                    deaths: d,
                    s0: Vec::with_capacity(d),
                    s1: Vec::with_capacity(d),
                    score: dead_x.clone(),
                    info: vec![0.0; p * p],
                });
                for q in 0..d {
                    let f = down_weight(ties, q, d);
                    let e0 = s0 - f * a0;
                    for a in 0..p {
                        e1[a] = s1[a] - f * a1[a];
                        mean[a] = e1[a] / e0;
                    }
                    loglik -= e0.ln();
                    for a in 0..p {
                        score[a] -= mean[a];
                        for b in 0..=a {
                            let e2 = s2[a * p + b] - f * a2[a * p + b];
                            let v = e2 / e0 - mean[a] * mean[b];
                            info[(a, b)] += v;
                            if a != b {
                                info[(b, a)] += v;
                            }
                            if let Some(event) = event.as_mut() {
                                event.info[a * p + b] += v;
                                if a != b {
                                    event.info[b * p + a] += v;
                                }
                            }
                        }
                    }
                    if let Some(event) = event.as_mut() {
                        for (s, m) in event.score.iter_mut().zip(&mean) {
                            *s -= m;
                        }
                        event.s0.push(e0);
                        event.s1.push(e1.clone());
                    }
                }
                times.extend(event);
            }
            k = j;
        }
        times.reverse();
        all_times.push(times);
    }
    Pass {
        loglik,
        score,
        info,
        times: all_times,
    }
}

/// How much of the dying rows' risk the q-th of d pseudo-events leaves out.
fn down_weight(ties: Ties, q: usize, d: usize) -> f64 {
    match ties {
        Ties::Efron => q as f64 / d as f64,
        Ties::Breslow => 0.0,
    }
}

/// Solves I·a = u (the Newton step), or `None` when I is not positive definite.
fn solve(info: &DMatrix<f64>, u: &DVector<f64>) -> Option<DVector<f64>> {
    info.clone().cholesky().map(|c| c.solve(u))
}

fn inverse(info: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    info.clone()
        .cholesky()
        .map(|c| c.inverse())
        .or_else(|| info.clone().try_inverse())
}

/// Refuses covariates that cannot all be estimated: a constant, or one that the others
/// before it already determine (Gram–Schmidt on the centred columns).
fn check_rank(input: &CoxInput<'_>, prep: &Prepared) -> Result<(), CoxError> {
    let (n, p) = (input.rows(), prep.p);
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let mut owners: Vec<usize> = Vec::new();
    for j in 0..p {
        let column: Vec<f64> = (0..n).map(|i| prep.xc[i * p + j]).collect();
        let norm: f64 = column.iter().map(|v| v * v).sum::<f64>().sqrt();
        let scale = (0..n).map(|i| input.x[i * p + j].abs()).fold(0.0, f64::max);
        if norm <= 1e-12 * scale.max(1.0) * (n as f64).sqrt() {
            return Err(CoxError::Constant(input.names[j].clone()));
        }
        let mut residual = column.clone();
        for b in &basis {
            let dot: f64 = residual.iter().zip(b).map(|(r, b)| r * b).sum();
            residual.iter_mut().zip(b).for_each(|(r, b)| *r -= dot * b);
        }
        let left: f64 = residual.iter().map(|v| v * v).sum::<f64>().sqrt();
        if left <= 1e-9 * norm {
            let others: Vec<&str> = owners.iter().map(|&k| input.names[k].as_str()).collect();
            return Err(CoxError::Collinear {
                name: input.names[j].clone(),
                others: others.join(", "),
            });
        }
        basis.push(residual.iter().map(|v| v / left).collect());
        owners.push(j);
    }
    Ok(())
}

/// Fits the model on a design's complete rows: the event studied against all else
/// (a competing event counts as censored, as in a cause-specific model).
pub fn fit_design(design: &super::design::Design, ties: Ties) -> Result<CoxFit, CoxError> {
    fit_design_to(design, ties, Extent::Full)
}

pub fn fit_design_to(
    design: &super::design::Design,
    ties: Ties,
    extent: Extent,
) -> Result<CoxFit, CoxError> {
    let event = design.event_flags();
    fit_to(&CoxInput::of(design, &event), ties, extent)
}

impl<'a> CoxInput<'a> {
    /// A design's rows with `event` (its event flags) as the outcome.
    pub fn of(design: &'a super::design::Design, event: &'a [bool]) -> CoxInput<'a> {
        CoxInput {
            time: &design.time,
            event,
            x: &design.x,
            names: &design.names,
            strata: &design.strata,
        }
    }
}

/// Fits the model.
pub fn fit(input: &CoxInput<'_>, ties: Ties) -> Result<CoxFit, CoxError> {
    fit_to(input, ties, Extent::Full)
}

pub fn fit_to(input: &CoxInput<'_>, ties: Ties, extent: Extent) -> Result<CoxFit, CoxError> {
    let p = input.p();
    if p == 0 {
        return Err(CoxError::NoCovariates);
    }
    let events = input.event.iter().filter(|e| **e).count();
    if events == 0 {
        return Err(CoxError::NoEvents);
    }
    let prep = Prepared::new(input);
    check_rank(input, &prep)?;

    // Newton–Raphson exactly as survival's coxfit6.c, so that the iteration count and
    // the point where it stops agree with R.
    let mut beta = vec![0.0; p];
    let start = pass(input, &prep, &beta, ties, false);
    let loglik_null = start.loglik;
    let score_chisq = solve(&start.info, &start.score).map_or(0.0, |a| start.score.dot(&a));
    let (mut loglik, mut info) = (start.loglik, start.info.clone());
    let mut score = start.score.clone();
    let mut next: Vec<f64> = match solve(&info, &score) {
        Some(a) => a.iter().zip(&beta).map(|(a, b)| a + b).collect(),
        None => beta.clone(),
    };
    let mut halving = 0;
    let mut converged = false;
    let mut iterations = MAX_ITERATIONS;
    for iter in 1..=MAX_ITERATIONS {
        let trial = pass(input, &prep, &next, ties, false);
        if trial.loglik.is_finite() && (1.0 - loglik / trial.loglik).abs() <= EPS && halving == 0 {
            beta = next.clone();
            loglik = trial.loglik;
            info = trial.info;
            score = trial.score;
            converged = true;
            iterations = iter;
            break;
        }
        if !trial.loglik.is_finite() || trial.loglik < loglik {
            halving += 1;
            next = next.iter().zip(&beta).map(|(n, b)| (n + b) / 2.0).collect();
        } else {
            halving = 0;
            loglik = trial.loglik;
            info = trial.info;
            score = trial.score;
            beta = next.clone();
            let Some(step) = solve(&info, &score) else {
                break;
            };
            next = beta.iter().zip(step.iter()).map(|(b, a)| b + a).collect();
        }
    }
    if !converged {
        let last = pass(input, &prep, &beta, ties, false);
        loglik = last.loglik;
        info = last.info;
        score = last.score;
    }
    let var = inverse(&info).unwrap_or_else(|| DMatrix::from_element(p, p, f64::NAN));
    let step = &var * &score;
    let infinite = (0..p)
        .filter(|&j| {
            let s = step[j].abs();
            !s.is_finite() || (s > TOLER_INF && s > TOLER_INF * beta[j].abs())
        })
        .collect();
    let b = DVector::from_column_slice(&beta);
    let wald = solve(&var, &b).map_or(f64::NAN, |a| b.dot(&a));

    let final_pass = pass(input, &prep, &beta, ties, true);
    let rows = |m: &DMatrix<f64>| (0..p).map(|i| m.row(i).iter().copied().collect()).collect();
    let robust = (extent == Extent::Full).then(|| {
        let dfbeta = score_residuals(input, &prep, &beta, ties, &final_pass) * &var;
        let robust = dfbeta.transpose() * &dfbeta;
        let robust_wald = solve(&robust, &b).map_or(f64::NAN, |a| b.dot(&a));
        let zero = vec![0.0; p];
        let at_zero = pass(input, &prep, &zero, ties, true);
        let residuals0 = score_residuals(input, &prep, &zero, ties, &at_zero);
        let u0: DVector<f64> = residuals0.row_sum().transpose();
        let robust_score =
            solve(&(residuals0.transpose() * &residuals0), &u0).map_or(f64::NAN, |a| u0.dot(&a));
        Robust {
            var: rows(&robust),
            wald_test: Test::new(robust_wald, p),
            score_test: Test::new(robust_score, p),
        }
    });

    let shift: f64 = prep
        .means
        .iter()
        .zip(&beta)
        .map(|(m, b)| m * b)
        .sum::<f64>()
        .exp();
    let baseline = final_pass
        .times
        .iter()
        .map(|times| {
            let mut total = 0.0;
            let mut out = Baseline {
                times: Vec::new(),
                cumhaz: Vec::new(),
            };
            for e in times {
                total += e.s0.iter().map(|s0| 1.0 / s0).sum::<f64>() / shift;
                out.times.push(input.time[prep.order[e.rows.start]]);
                out.cumhaz.push(total);
            }
            out
        })
        .collect();
    Ok(CoxFit {
        names: input.names.to_vec(),
        ties,
        n: input.rows(),
        events,
        coef: beta,
        var: rows(&var),
        robust,
        means: prep.means.clone(),
        loglik_null,
        loglik,
        lr_test: Test::new(2.0 * (loglik - loglik_null), p),
        wald_test: Test::new(wald, p),
        score_test: Test::new(score_chisq, p),
        iterations,
        converged,
        infinite,
        baseline,
        strata: prep.blocks.len(),
    })
}

/// Each row's score residual (its share of the score, Therneau & Grambsch §4.6), in
/// input order: ∫ (x_i − x̄(s)) dM_i(s), with Efron's pseudo-events splitting a death
/// 1/d to each and weighting the dying rows' risk by 1 − q/d.
fn score_residuals(
    input: &CoxInput<'_>,
    prep: &Prepared,
    beta: &[f64],
    ties: Ties,
    at: &Pass,
) -> DMatrix<f64> {
    let p = prep.p;
    let n = input.rows();
    let mut out = DMatrix::zeros(n, p);
    for (block, times) in prep.blocks.iter().zip(&at.times) {
        // Running sums over the event times so far: Σ 1/s0 and Σ x̄/s0.
        let mut hazard = 0.0;
        let mut xhaz = vec![0.0; p];
        let mut next_event = times.iter().peekable();
        let mut k = block.start;
        while k < block.end {
            let t = input.time[prep.order[k]];
            let end = k + prep.order[k..block.end]
                .iter()
                .take_while(|&&i| input.time[i] == t)
                .count();
            // The event time at t, if any: its full and death-weighted hazard pieces.
            let here = next_event.next_if(|e| e.rows.start == k);
            let (mut h_all, mut x_all) = (0.0, vec![0.0; p]);
            let (mut h_dead, mut x_dead) = (0.0, vec![0.0; p]);
            let mut mean_xbar = vec![0.0; p];
            if let Some(e) = here {
                let d = e.deaths as f64;
                for (q, (s0, s1)) in e.s0.iter().zip(&e.s1).enumerate() {
                    let keep = 1.0 - down_weight(ties, q, e.deaths);
                    h_all += 1.0 / s0;
                    h_dead += keep / s0;
                    for a in 0..p {
                        let xbar = s1[a] / s0;
                        x_all[a] += xbar / s0;
                        x_dead[a] += keep * xbar / s0;
                        mean_xbar[a] += xbar / d;
                    }
                }
            }
            for &i in &prep.order[k..end] {
                let x = prep.row(i);
                let r = prep.lp(i, beta).exp();
                let dead = input.event[i];
                let (h, xh) = if dead {
                    (h_dead, &x_dead)
                } else {
                    (h_all, &x_all)
                };
                for a in 0..p {
                    let mut v = -r * (x[a] * (hazard + h) - (xhaz[a] + xh[a]));
                    if dead {
                        v += x[a] - mean_xbar[a];
                    }
                    out[(i, a)] = v;
                }
            }
            hazard += h_all;
            for a in 0..p {
                xhaz[a] += x_all[a];
            }
            k = end;
        }
    }
    out
}

/// One row of the coefficient table, as `summary(coxph)` prints it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coefficient {
    pub name: String,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub coef: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub se: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub robust_se: f64,
    /// Wald z = coef/se and its two-sided p-value.
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub z: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub p: f64,
    /// The hazard ratio exp(coef) and its interval exp(coef ± z·se).
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub hr: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub hr_lower: f64,
    #[serde(deserialize_with = "crate::survival::json::nan_if_null")]
    pub hr_upper: f64,
}

impl Coefficient {
    /// The row of coefficient `coef` with standard error `se`: Wald z = coef/se, its
    /// two-sided p, and exp(coef) with the interval exp(coef ± z₁₋α/₂·se) at `level`.
    pub fn wald(name: String, coef: f64, se: f64, robust_se: f64, level: f64) -> Coefficient {
        let q = normal_quantile(1.0 - (1.0 - level) / 2.0);
        Coefficient {
            name,
            coef,
            se,
            robust_se,
            z: coef / se,
            p: 2.0 * normal_upper((coef / se).abs()),
            hr: coef.exp(),
            hr_lower: (coef - q * se).exp(),
            hr_upper: (coef + q * se).exp(),
        }
    }
}

impl CoxFit {
    /// The coefficient table with intervals at `level` (0.95 for 95 %).
    pub fn coefficients(&self, level: f64) -> Vec<Coefficient> {
        let (se, robust) = (self.se(), self.robust_se());
        (0..self.coef.len())
            .map(|j| {
                Coefficient::wald(self.names[j].clone(), self.coef[j], se[j], robust[j], level)
            })
            .collect()
    }

    /// What a reader must know before trusting the fit, in words.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.converged {
            out.push(format!(
                "did not converge in {MAX_ITERATIONS} iterations: the estimates are the last ones reached"
            ));
        }
        for &j in &self.infinite {
            out.push(format!(
                "did not converge: the coefficient of {0} grows without bound — {0} separates \
                 the patients with events from those without, so its hazard ratio and test mean nothing",
                self.names[j]
            ));
        }
        out
    }

    /// Standard errors from the model-based covariance.
    pub fn se(&self) -> Vec<f64> {
        (0..self.coef.len())
            .map(|j| self.var[j][j].sqrt())
            .collect()
    }

    /// Robust standard errors; not defined (NaN, shown as such) for a refit.
    pub fn robust_se(&self) -> Vec<f64> {
        (0..self.coef.len())
            .map(|j| {
                self.robust
                    .as_ref()
                    .map_or(f64::NAN, |r| r.var[j][j].sqrt())
            })
            .collect()
    }

    /// The uncentred linear predictor x·β of one row.
    pub fn linear_predictor(&self, x: &[f64]) -> f64 {
        x.iter().zip(&self.coef).map(|(x, b)| x * b).sum()
    }

    /// S(t | x) = exp(−H0(t)·exp(x·β)) in the row's stratum.
    pub fn survival(&self, x: &[f64], stratum: usize, t: f64) -> f64 {
        let h = self.baseline[stratum].at(t);
        (-h * self.linear_predictor(x).exp()).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: usize) -> Vec<String> {
        (0..p).map(|j| format!("x{j}")).collect()
    }

    fn input<'a>(
        time: &'a [f64],
        event: &'a [bool],
        x: &'a [f64],
        names: &'a [String],
    ) -> CoxInput<'a> {
        CoxInput {
            time,
            event,
            x,
            names,
            strata: &[0; 8][..time.len()],
        }
    }

    const TIME: [f64; 8] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    const EVENT: [bool; 8] = [true, false, true, true, false, true, false, true];

    #[test]
    fn one_covariate_without_ties_has_the_textbook_score_test() {
        // With one binary covariate and no ties, the score test is the log-rank test.
        let x = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        let n = names(1);
        let f = fit(&input(&TIME, &EVENT, &x, &n), Ties::Efron).unwrap();
        let group: Vec<usize> = x.iter().map(|&v| v as usize).collect();
        let lr = super::super::logrank::log_rank(&TIME, &EVENT, &group, &[0; 8], 0.0).unwrap();
        assert!((f.score_test.chisq - lr.chisq).abs() < 1e-10);
        assert!(f.converged);
    }

    #[test]
    fn refuses_what_cannot_be_estimated_in_words() {
        let n2 = names(2);
        let constant = [
            1.0, 5.0, 1.0, 4.0, 1.0, 3.0, 1.0, 2.0, 1.0, 1.0, 1.0, 0.5, 1.0, 0.2, 1.0, 0.1,
        ];
        let e = fit(&input(&TIME, &EVENT, &constant, &n2), Ties::Efron).unwrap_err();
        assert_eq!(e, CoxError::Constant("x0".into()));
        let twice: Vec<f64> = [0.3, 1.2, 0.5, 2.0, 0.1, 0.9, 0.8, 1.1]
            .iter()
            .flat_map(|&v| [v, 2.0 * v + 1.0])
            .collect();
        let e = fit(&input(&TIME, &EVENT, &twice, &n2), Ties::Efron).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x1 is a linear combination of x0: leave one of them out"
        );
        let n1 = names(1);
        let x = [0.3, 1.2, 0.5, 2.0, 0.1, 0.9, 0.8, 1.1];
        let e = fit(&input(&TIME, &[false; 8], &x, &n1), Ties::Efron).unwrap_err();
        assert_eq!(e, CoxError::NoEvents);
    }

    #[test]
    fn a_separating_covariate_is_flagged_not_a_number() {
        // Everyone with x = 1 dies before everyone with x = 0: the likelihood keeps
        // rising as the coefficient grows.
        let x = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let event = [true, true, true, true, true, false, true, false];
        let n = names(1);
        let f = fit(&input(&TIME, &event, &x, &n), Ties::Efron).unwrap();
        assert_eq!(f.infinite, vec![0]);
        assert!(f.coef[0].is_finite() && f.coef[0] > 5.0);
        let one = [false, false, true, false, false, false, false, false];
        let f = fit(
            &input(&TIME, &one, &[0.3, 1.2, 0.5, 2.0, 0.1, 0.9, 0.8, 1.1], &n),
            Ties::Breslow,
        )
        .unwrap();
        assert!(f.coef[0].is_finite() && f.loglik.is_finite());
    }
}
